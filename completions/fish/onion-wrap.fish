complete -c onion-wrap -l path -d 'Wrap the request (INPUT) for this path of nodes (file, or \'-\' for stdin)' -r
complete -c onion-wrap -l enc -d 'Layer encryption when wrapping, or of the reply key with --open-reply' -r
complete -c onion-wrap -l key -d 'The node\'s key file for --peel' -r
complete -c onion-wrap -l reply-key -d 'The reply key (64 hex) for --open-reply and --seal-reply' -r
complete -c onion-wrap -l peel -d 'Peel one layer of the onion body (INPUT) with a node\'s key, and print what that node sees'
complete -c onion-wrap -l open-reply -d 'Decrypt the final node\'s reply (INPUT) with the reply key printed when wrapping'
complete -c onion-wrap -l seal-reply -d 'Encrypt a reply {"status", "body"} (INPUT) as the final node would answer it'
complete -c onion-wrap -s h -l help -d 'Print help'
complete -c onion-wrap -s V -l version -d 'Print version'
