complete -c swarm-of -s h -l help -d 'Print help'
complete -c swarm-of -s V -l version -d 'Print version'
