complete -c rpc -l identity -d 'The account\'s owner (written by `keygen -o`); signs unless a subaccount key does' -r -F
complete -c rpc -l params -d 'The method\'s params: inline JSON, - for stdin, or a file (default {})' -r
complete -c rpc -l nodes -d 'The node list: a FILE (testnet\'s nodes.json, a get_service_nodes result, or a registry), a dash for stdin, http(s)://IP:PORT to ask a node (get_service_nodes), https://HOST/json_rpc to ask a seed (get_n_service_nodes), or any other http(s) URL of a node list or registry' -r
complete -c rpc -l node -d 'A node to bootstrap from (http://IP:PORT, https://IP:PORT), or a seed\'s JSON-RPC endpoint (https://HOST/json_rpc, as the Session apps do); the same as --nodes URL' -r
complete -c rpc -l path-dir -d 'Where the kept onion paths live (paths.json) [default: $XDG_DATA_HOME/snkit/paths, else ~/.local/share/snkit/paths]' -r -F
complete -c rpc -l target -d 'Ask this node (Ed25519 hex, from the node list) instead of a random swarm member' -r
complete -c rpc -l subaccount-key -d 'A subaccount\'s identity: it signs the requests, under the owner\'s grant' -r -F
complete -c rpc -l subaccount -d 'The owner\'s grant: the 36-byte token (hex or base64)' -r
complete -c rpc -l subaccount-sig -d 'The owner\'s signature over the token (base64 or hex)' -r
complete -c rpc -l subaccount-flags -d 'Make the grant now with --identity (the owner): r read, w write, d delete, a any prefix' -r
complete -c rpc -l account -d 'The account a subaccount acts on (66 hex), when --identity is not the owner\'s' -r
complete -c rpc -l account-ed25519 -d 'The account\'s Ed25519 key (64 hex; 05 accounts), sent as pubkey_ed25519' -r
complete -c rpc -l group-auth -d 'Act as a member of the Session group --account (03…) with the admin\'s 100-byte auth data (200 hex, libsession\'s swarm_make_subaccount), signing with --identity\'s blinded key' -r
complete -c rpc -l enc -d 'Onion layer encryption: xchacha20 (default) or aes-gcm' -r
complete -c rpc -l group -d 'Act as the 03 (group) account whose Ed25519 key is --identity\'s'
complete -c rpc -l tls -d 'Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// node or seed, or a node list that says "tls": true); their self-signed certificates are accepted, the onion layers being encrypted to the nodes\' keys'
complete -c rpc -l fresh-path -d 'Build a fresh onion path for every request and keep none (by default the paths are kept in --path-dir and reused by the next command, as the apps keep theirs)'
complete -c rpc -l direct -d 'A plain HTTP(S) POST to the node instead of an onion path'
complete -c rpc -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rpc -s V -l version -d 'Print version'
