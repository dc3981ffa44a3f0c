# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sogs_global_optspecs
    string join \n dir= add-room= name= description= delete-room= rooms= add-moderators= delete-moderators= admin visible hidden add-perms= remove-perms= clear-perms= users= L/list-rooms M/list-global-mods add-token= revoke-token= h/help V/version
end

function __fish_sogs_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sogs_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sogs_using_subcommand
    set -l cmd (__fish_sogs_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sogs -n "__fish_sogs_needs_command" -l dir -d 'Data directory of the server (key file, database)' -r -F
complete -c sogs -n "__fish_sogs_needs_command" -l add-room -d 'Create a room with this token ([A-Za-z0-9_-], up to 64)' -r
complete -c sogs -n "__fish_sogs_needs_command" -l name -d 'The new room\'s display name (with --add-room; default: the token)' -r
complete -c sogs -n "__fish_sogs_needs_command" -l description -d 'The new room\'s description (with --add-room)' -r
complete -c sogs -n "__fish_sogs_needs_command" -l delete-room -d 'Delete a room and everything in it' -r
complete -c sogs -n "__fish_sogs_needs_command" -l rooms -d 'Rooms the moderator or permission flags apply to: tokens, \'*\' for every room, \'+\' for global' -r
complete -c sogs -n "__fish_sogs_needs_command" -l add-moderators -d 'Make these Session IDs (05…) or blinded IDs (15…) moderators of --rooms' -r
complete -c sogs -n "__fish_sogs_needs_command" -l delete-moderators -d 'Remove these moderators from --rooms' -r
complete -c sogs -n "__fish_sogs_needs_command" -l add-perms -d 'Grant permissions (letters r read, w write, u upload, a accessible) in --rooms' -r
complete -c sogs -n "__fish_sogs_needs_command" -l remove-perms -d 'Deny permissions in --rooms' -r
complete -c sogs -n "__fish_sogs_needs_command" -l clear-perms -d 'Back to the room\'s default (with --users) or the built-in default (without)' -r
complete -c sogs -n "__fish_sogs_needs_command" -l users -d 'Users the permission flags apply to; without it they change the rooms\' defaults' -r
complete -c sogs -n "__fish_sogs_needs_command" -l add-token -d 'Make a REST API token with this name; prints it once (only its hash is kept)' -r
complete -c sogs -n "__fish_sogs_needs_command" -l revoke-token -d 'Revoke the REST API token with this name' -r
complete -c sogs -n "__fish_sogs_needs_command" -l admin -d 'With --add-moderators: admins, not just moderators'
complete -c sogs -n "__fish_sogs_needs_command" -l visible -d 'With --add-moderators: shown to everyone (default in rooms)'
complete -c sogs -n "__fish_sogs_needs_command" -l hidden -d 'With --add-moderators: shown only to moderators (default for global moderators)'
complete -c sogs -n "__fish_sogs_needs_command" -s L -l list-rooms -d 'List the rooms'
complete -c sogs -n "__fish_sogs_needs_command" -s M -l list-global-mods -d 'List the global moderators and admins'
complete -c sogs -n "__fish_sogs_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sogs -n "__fish_sogs_needs_command" -s V -l version -d 'Print version'
complete -c sogs -n "__fish_sogs_needs_command" -f -a "serve" -d 'Serve until SIGTERM or SIGINT; prints {"url","pubkey","pubkey_ed25519"} once listening'
complete -c sogs -n "__fish_sogs_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sogs -n "__fish_sogs_using_subcommand serve" -l listen -d 'Address to listen on; port 0 picks a free port (the printed url tells which)' -r
complete -c sogs -n "__fish_sogs_using_subcommand serve" -l base-url -d 'The public URL (join URLs and the web page name it); default: the listening URL' -r
complete -c sogs -n "__fish_sogs_using_subcommand serve" -l log -d 'Log level or filter (error, warn, info, debug, trace; or a tracing filter), on stderr' -r
complete -c sogs -n "__fish_sogs_using_subcommand serve" -l dir -d 'Data directory of the server (key file, database)' -r -F
complete -c sogs -n "__fish_sogs_using_subcommand serve" -l tls -d 'Serve HTTPS with a self-signed certificate made at start'
complete -c sogs -n "__fish_sogs_using_subcommand serve" -l allow-unblinded -d 'Accept unblinded (00…) keys too (by default only blinded 15… keys: capability `blind`)'
complete -c sogs -n "__fish_sogs_using_subcommand serve" -s h -l help -d 'Print help'
