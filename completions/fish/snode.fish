complete -c snode -l data -d 'Data directory (key file, database); created if missing' -r -F
complete -c snode -l listen -d 'Address to listen on; port 0 picks a free port (written to <data>/listen.addr)' -r
complete -c snode -l registry -d 'Registry: an http:// URL or a file path' -r
complete -c snode -l log -d 'Log level or filter (error, warn, info, debug, trace; or a tracing filter)' -r
complete -c snode -l tls -d 'Serve HTTPS with a self-signed certificate (made at start), as live service nodes do, and talk HTTPS to the peers (every node of the network must say --tls)'
complete -c snode -l peer-log -d 'Record every accepted request, with the peer address of its connection, as one JSON line in <data>/peers.ndjson (docs/faults.md)'
complete -c snode -s h -l help -d 'Print help (see more with \'--help\')'
complete -c snode -s V -l version -d 'Print version'
