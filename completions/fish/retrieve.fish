complete -c retrieve -s h -l help -d 'Print help'
complete -c retrieve -s V -l version -d 'Print version'
