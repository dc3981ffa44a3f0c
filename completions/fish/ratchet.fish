complete -c ratchet -s h -l help -d 'Print help'
complete -c ratchet -s V -l version -d 'Print version'
