complete -c pow -s h -l help -d 'Print help'
complete -c pow -s V -l version -d 'Print version'
