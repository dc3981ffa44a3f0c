complete -c send -l identity -d 'The sender\'s identity file (written by `keygen -o`)' -r -F
complete -c send -l to -d 'The recipient\'s Session ID (66 hex characters, starting with 05)' -r
complete -c send -l ttl -d 'How long the swarm keeps the message, in milliseconds (10 s to 14 days)' -r
complete -c send -l nodes -d 'The node list: a FILE (testnet\'s nodes.json, a get_service_nodes result, or a registry), a dash for stdin, http(s)://IP:PORT to ask a node (get_service_nodes), https://HOST/json_rpc to ask a seed (get_n_service_nodes), or any other http(s) URL of a node list or registry' -r
complete -c send -l node -d 'A node to bootstrap from (http://IP:PORT, https://IP:PORT), or a seed\'s JSON-RPC endpoint (https://HOST/json_rpc, as the Session apps do); the same as --nodes URL' -r
complete -c send -l path-dir -d 'Where the kept onion paths live (paths.json) [default: $XDG_DATA_HOME/snkit/paths, else ~/.local/share/snkit/paths]' -r -F
complete -c send -l enc -d 'Onion layer encryption: xchacha20 (default) or aes-gcm' -r
complete -c send -l format -d 'What stdin holds: `raw` (stored as it is) or `session`, a text message that is sent in the live Session apps\' 1-1 format (signed, sealed to the recipient, wrapped in an Envelope)' -r -f -a "raw\t''
session\t''"
complete -c send -l attach -d 'An attachment pointer file (what `upload` prints) to send in the message (repeatable; --format session: DataMessage.attachments, as the apps send files; stdin then may be empty)' -r -F
complete -c send -l sync -d 'Synchronous delivery (docs/sync.md): `auto` delivers to the recipient\'s listening node when its presence is fresh and stores the same bytes in the swarm otherwise; `off` always stores; `only` never stores (tests)' -r -f -a "auto\t''
off\t''
only\t''"
complete -c send -l ack-timeout -d 'How long the listening node waits for the recipient\'s ack, ms (100 to 5000)' -r
complete -c send -l state -d 'The state directory `retrieve` uses (our listener\'s `self.json` and the peers\' presences; default: $XDG_DATA_HOME/snkit/retrieve)' -r -F
complete -c send -l tls -d 'Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// node or seed, or a node list that says "tls": true); their self-signed certificates are accepted, the onion layers being encrypted to the nodes\' keys'
complete -c send -l fresh-path -d 'Build a fresh onion path for every request and keep none (by default the paths are kept in --path-dir and reused by the next command, as the apps keep theirs)'
complete -c send -l no-presence -d 'Attach an offline presence (same size) even when our listener runs'
complete -c send -s h -l help -d 'Print help (see more with \'--help\')'
complete -c send -s V -l version -d 'Print version'
