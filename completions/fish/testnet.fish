complete -c testnet -s h -l help -d 'Print help'
complete -c testnet -s V -l version -d 'Print version'
