complete -c retrieve -l identity -d 'The identity whose messages to fetch (written by `keygen -o`)' -r -F
complete -c retrieve -l state -d 'Where to keep the last hashes seen (default: $XDG_DATA_HOME/snkit/retrieve)' -r -F
complete -c retrieve -l nodes -d 'The node list: a FILE (testnet\'s nodes.json, a get_service_nodes result, or a registry), a dash for stdin, http(s)://IP:PORT to ask a node (get_service_nodes), https://HOST/json_rpc to ask a seed (get_n_service_nodes), or any other http(s) URL of a node list or registry' -r
complete -c retrieve -l node -d 'A node to bootstrap from (http://IP:PORT, https://IP:PORT), or a seed\'s JSON-RPC endpoint (https://HOST/json_rpc, as the Session apps do); the same as --nodes URL' -r
complete -c retrieve -l path-dir -d 'Where the kept onion paths live (paths.json) [default: $XDG_DATA_HOME/snkit/paths, else ~/.local/share/snkit/paths]' -r -F
complete -c retrieve -l enc -d 'Onion layer encryption: xchacha20 (default) or aes-gcm' -r
complete -c retrieve -l listen-node -d 'Where to listen: `swarm` (a random member of our swarm), `any` node, or a node\'s Ed25519 key' -r
complete -c retrieve -l listen-rate -d 'Our own limit on synchronous delivers per second at the listening node (the node caps it at its maximum, 20)' -r
complete -c retrieve -l listen-burst -d 'The burst of that limit (the node caps it at 50)' -r
complete -c retrieve -l tls -d 'Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// node or seed, or a node list that says "tls": true); their self-signed certificates are accepted, the onion layers being encrypted to the nodes\' keys'
complete -c retrieve -l fresh-path -d 'Build a fresh onion path for every request and keep none (by default the paths are kept in --path-dir and reused by the next command, as the apps keep theirs)'
complete -c retrieve -l follow -d 'Keep polling and print messages as they arrive (ends on a closed stdout or a signal)'
complete -c retrieve -l delete -d 'Delete the printed messages from the swarm once they are saved'
complete -c retrieve -l listen -d 'Also listen for synchronous deliveries at a listening node (implies --follow)'
complete -c retrieve -l events -d 'Also print the listener\'s events among the messages, one `{"event": …}` line each (listening, subscribed, presence, handshake, failover, listen_refused, unlistened)'
complete -c retrieve -l peers -d 'Print the contacts\' presences (NDJSON) without touching the network'
complete -c retrieve -s h -l help -d 'Print help (see more with \'--help\')'
complete -c retrieve -s V -l version -d 'Print version'
