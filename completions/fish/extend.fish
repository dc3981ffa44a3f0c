complete -c extend -l ttl -d 'The lifetime to extend to, in seconds from now (the server\'s default otherwise)' -r
complete -c extend -l fileserver -d 'The file server\'s URL (http://HOST:PORT). Default: the testnet\'s, from the fileserver.json next to its nodes.json' -r
complete -c extend -l fileserver-key -d 'The file server\'s X25519 key, hex (what `fileserver serve` prints as "pubkey")' -r
complete -c extend -l nodes -d 'The node list: a FILE (testnet\'s nodes.json, a get_service_nodes result, or a registry), a dash for stdin, http(s)://IP:PORT to ask a node (get_service_nodes), https://HOST/json_rpc to ask a seed (get_n_service_nodes), or any other http(s) URL of a node list or registry' -r
complete -c extend -l node -d 'A node to bootstrap from (http://IP:PORT, https://IP:PORT), or a seed\'s JSON-RPC endpoint (https://HOST/json_rpc, as the Session apps do); the same as --nodes URL' -r
complete -c extend -l path-dir -d 'Where the kept onion paths live (paths.json) [default: $XDG_DATA_HOME/snkit/paths, else ~/.local/share/snkit/paths]' -r -F
complete -c extend -l direct -d 'Talk to the file server directly (it sees your address) instead of through a 3-hop onion path'
complete -c extend -l tls -d 'Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// node or seed, or a node list that says "tls": true); their self-signed certificates are accepted, the onion layers being encrypted to the nodes\' keys'
complete -c extend -l fresh-path -d 'Build a fresh onion path for every request and keep none (by default the paths are kept in --path-dir and reused by the next command, as the apps keep theirs)'
complete -c extend -s h -l help -d 'Print help (see more with \'--help\')'
complete -c extend -s V -l version -d 'Print version'
