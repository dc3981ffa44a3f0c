complete -c keygen -l seed -d 'Re-derive from this seed: 32 or 64 hex characters, or `-` to read hex or JSON with a "seed" field from stdin (keeps the seed out of argv)' -r
complete -c keygen -l seed-file -d 'Re-derive from the seed in FILE (hex, or JSON with a "seed" field, e.g. a keygen -o file)' -r -F
complete -c keygen -s o -l output -d 'Write the identity, seed included, to FILE: a new file with mode 0600, never overwritten. Stdout then shows only the public parts {"session_id", "ed25519_pk", "x25519_pk"}' -r -F
complete -c keygen -l community -d 'Also print the identity\'s blinded IDs for the community (SOGS) server with this X25519 public key (64 hex): "blinded15" and "blinded25", as the apps show them there' -r
complete -c keygen -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keygen -s V -l version -d 'Print version'
