complete -c snode -s h -l help -d 'Print help'
complete -c snode -s V -l version -d 'Print version'
