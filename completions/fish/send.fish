complete -c send -s h -l help -d 'Print help'
complete -c send -s V -l version -d 'Print version'
