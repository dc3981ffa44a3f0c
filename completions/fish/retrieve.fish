complete -c retrieve -l identity -d 'The identity whose messages to fetch (written by `keygen -o`)' -r -F
complete -c retrieve -l state -d 'Where to keep the last hashes seen (default: $XDG_DATA_HOME/snkit/retrieve)' -r -F
complete -c retrieve -l nodes -d 'A node list file (`testnet up` writes DIR/nodes.json)' -r
complete -c retrieve -l node -d 'Bootstrap the node list from this node (http://IP:PORT, https://IP:PORT), or from a seed\'s JSON-RPC endpoint (https://HOST/json_rpc, as the Session apps do)' -r
complete -c retrieve -l enc -d 'Onion layer encryption: xchacha20 (default) or aes-gcm' -r
complete -c retrieve -l follow -d 'Keep polling and print messages as they arrive (ends on a closed stdout or a signal)'
complete -c retrieve -l tls -d 'Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// --node or a node list that says "tls": true); their self-signed certificates are accepted, the onion layers being encrypted to the nodes\' keys'
complete -c retrieve -s h -l help -d 'Print help (see more with \'--help\')'
complete -c retrieve -s V -l version -d 'Print version'
