complete -c swarm-of -l nodes -d 'Node list: a file (testnet\'s nodes.json, a get_service_nodes result, or a registry), - for stdin, or an http:// URL to GET it from' -r
complete -c swarm-of -l node -d 'Ask this node (get_swarm) instead of computing from a node list, e.g. http://127.0.0.1:38001' -r
complete -c swarm-of -s h -l help -d 'Print help (see more with \'--help\')'
complete -c swarm-of -s V -l version -d 'Print version'
