complete -c onion-wrap -s h -l help -d 'Print help'
complete -c onion-wrap -s V -l version -d 'Print version'
