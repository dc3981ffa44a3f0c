# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_community_global_optspecs
    string join \n state= direct unblinded blind25 nodes= node= tls fresh-path path-dir= h/help V/version
end

function __fish_community_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_community_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_community_using_subcommand
    set -l cmd (__fish_community_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c community -n "__fish_community_needs_command" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_needs_command" -l nodes -d 'The node list: a FILE (testnet\'s nodes.json, a get_service_nodes result, or a registry), a dash for stdin, http(s)://IP:PORT to ask a node (get_service_nodes), https://HOST/json_rpc to ask a seed (get_n_service_nodes), or any other http(s) URL of a node list or registry' -r
complete -c community -n "__fish_community_needs_command" -l node -d 'A node to bootstrap from (http://IP:PORT, https://IP:PORT), or a seed\'s JSON-RPC endpoint (https://HOST/json_rpc, as the Session apps do); the same as --nodes URL' -r
complete -c community -n "__fish_community_needs_command" -l path-dir -d 'Where the kept onion paths live (paths.json) [default: $XDG_DATA_HOME/snkit/paths, else ~/.local/share/snkit/paths]' -r -F
complete -c community -n "__fish_community_needs_command" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_needs_command" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_needs_command" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_needs_command" -l tls -d 'Talk HTTPS to the nodes, as live service nodes serve (implied by an https:// node or seed, or a node list that says "tls": true); their self-signed certificates are accepted, the onion layers being encrypted to the nodes\' keys'
complete -c community -n "__fish_community_needs_command" -l fresh-path -d 'Build a fresh onion path for every request and keep none (by default the paths are kept in --path-dir and reused by the next command, as the apps keep theirs)'
complete -c community -n "__fish_community_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c community -n "__fish_community_needs_command" -s V -l version -d 'Print version'
complete -c community -n "__fish_community_needs_command" -f -a "join" -d 'Join a room by its join URL ({base}/{room}?public_key={hex}); prints {server, room, pubkey, info}'
complete -c community -n "__fish_community_needs_command" -f -a "rooms" -d 'The rooms of SERVER (GET /rooms), or, without it, the rooms joined here'
complete -c community -n "__fish_community_needs_command" -f -a "info" -d 'A joined room\'s details (GET /room/{token})'
complete -c community -n "__fish_community_needs_command" -f -a "post" -d 'Post the text on stdin to ROOM, as the apps post it'
complete -c community -n "__fish_community_needs_command" -f -a "edit" -d 'Replace the text of one\'s own message ID with the text on stdin'
complete -c community -n "__fish_community_needs_command" -f -a "poll" -d 'New, edited and deleted messages since the last poll, one JSON line each'
complete -c community -n "__fish_community_needs_command" -f -a "ban" -d 'Ban a user from ROOM (or everywhere with --global)'
complete -c community -n "__fish_community_needs_command" -f -a "unban" -d 'Lift a user\'s ban'
complete -c community -n "__fish_community_needs_command" -f -a "mod" -d 'Make a user a moderator (or admin) of ROOM, or remove them with --remove'
complete -c community -n "__fish_community_needs_command" -f -a "delete" -d 'Delete a message (one\'s own, or any as a moderator)'
complete -c community -n "__fish_community_needs_command" -f -a "delete-all" -d 'Delete every message of a user in ROOM (moderator)'
complete -c community -n "__fish_community_needs_command" -f -a "pin" -d 'Pin (or --unpin) a message (room admin)'
complete -c community -n "__fish_community_needs_command" -f -a "react" -d 'Add (or --remove) a reaction to a message'
complete -c community -n "__fish_community_needs_command" -f -a "upload" -d 'Upload a file to ROOM; prints {id, url}'
complete -c community -n "__fish_community_needs_command" -f -a "download" -d 'Download a room file to --out (or stdout, raw)'
complete -c community -n "__fish_community_needs_command" -f -a "dm" -d 'Blinded DMs with other users of a server'
complete -c community -n "__fish_community_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c community -n "__fish_community_using_subcommand join" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand join" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand join" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand join" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand join" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand join" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand rooms" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand rooms" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand rooms" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand rooms" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand rooms" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand rooms" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand info" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand info" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand info" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand info" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand info" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand info" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand post" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand post" -l name -d 'The display name sent with the message' -r
complete -c community -n "__fish_community_using_subcommand post" -l whisper-to -d 'Whisper to this user only (15… or 05…)' -r
complete -c community -n "__fish_community_using_subcommand post" -l file -d 'Attach a file (uploaded to the room first); may be repeated. Stdin may then be empty' -r -F
complete -c community -n "__fish_community_using_subcommand post" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand post" -l whisper-mods -d 'Whisper to the room\'s moderators'
complete -c community -n "__fish_community_using_subcommand post" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand post" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand post" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand post" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand edit" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand edit" -l name -d 'The display name sent with the message' -r
complete -c community -n "__fish_community_using_subcommand edit" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand edit" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand edit" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand edit" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand edit" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand poll" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand poll" -l interval -d 'The pause between polls with --follow, in ms' -r
complete -c community -n "__fish_community_using_subcommand poll" -l since -d 'Start from this seqno instead of the saved one (0: the whole room)' -r
complete -c community -n "__fish_community_using_subcommand poll" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand poll" -l follow -d 'Keep polling'
complete -c community -n "__fish_community_using_subcommand poll" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand poll" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand poll" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand poll" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand ban" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand ban" -l timeout -d 'Lift the ban after this many seconds' -r
complete -c community -n "__fish_community_using_subcommand ban" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand ban" -l global -d 'Ban from every room of the server'
complete -c community -n "__fish_community_using_subcommand ban" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand ban" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand ban" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand ban" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand unban" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand unban" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand unban" -l global -d 'The global ban'
complete -c community -n "__fish_community_using_subcommand unban" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand unban" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand unban" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand unban" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand mod" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand mod" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand mod" -l admin -d 'An admin rather than a moderator'
complete -c community -n "__fish_community_using_subcommand mod" -l hidden -d 'Not listed in the room\'s moderators'
complete -c community -n "__fish_community_using_subcommand mod" -l remove -d 'Take the rights away'
complete -c community -n "__fish_community_using_subcommand mod" -l global -d 'For every room of the server'
complete -c community -n "__fish_community_using_subcommand mod" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand mod" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand mod" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand mod" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand delete" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand delete" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand delete" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand delete" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand delete" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand delete" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand delete-all" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand delete-all" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand delete-all" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand delete-all" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand delete-all" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand delete-all" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand pin" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand pin" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand pin" -l unpin -d 'Unpin it instead'
complete -c community -n "__fish_community_using_subcommand pin" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand pin" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand pin" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand pin" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand react" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand react" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand react" -l remove -d 'Remove one\'s reaction instead'
complete -c community -n "__fish_community_using_subcommand react" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand react" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand react" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand react" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand upload" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand upload" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand upload" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand upload" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand upload" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand upload" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand download" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand download" -s o -l out -d 'Where to write it (prints {id, size, path}); default stdout' -r -F
complete -c community -n "__fish_community_using_subcommand download" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand download" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand download" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand download" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand download" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -f -a "send" -d 'Send the text on stdin to a 15… blinded user'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -f -a "poll" -d 'New DMs in the inbox, decrypted, one JSON line each (nothing when there are none)'
complete -c community -n "__fish_community_using_subcommand dm; and not __fish_seen_subcommand_from send poll help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -l server -d 'The server (a joined server\'s URL or room); default: the one joined server' -r
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from send" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l identity -d 'The identity file (written by `keygen -o`); requests are signed with its blinded key' -r -F
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l server -d 'The server (a joined server\'s URL or room); default: the one joined server' -r
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l state -d 'Where joined rooms and poll positions are kept' -r -F
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l all -d 'The whole inbox, not just what is new'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l direct -d 'Plain HTTP(S) straight to the server instead of onion requests through the nodes'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l unblinded -d 'Sign as the identity\'s own `00` + Ed25519 key instead of its blinded key (only servers that allow unblinded keys accept it; blinded DMs need the blinded key)'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -l blind25 -d 'Sign as the identity\'s 25-blinded key (`25…`) instead of the 15-blinded one: the server then knows us by it, and DMs to `25…` IDs need it'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from poll" -s h -l help -d 'Print help'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from help" -f -a "send" -d 'Send the text on stdin to a 15… blinded user'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from help" -f -a "poll" -d 'New DMs in the inbox, decrypted, one JSON line each (nothing when there are none)'
complete -c community -n "__fish_community_using_subcommand dm; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
