# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_fileserver_global_optspecs
    string join \n h/help V/version
end

function __fish_fileserver_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_fileserver_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_fileserver_using_subcommand
    set -l cmd (__fish_fileserver_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c fileserver -n "__fish_fileserver_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fileserver -n "__fish_fileserver_needs_command" -s V -l version -d 'Print version'
complete -c fileserver -n "__fish_fileserver_needs_command" -f -a "serve" -d 'Serve until SIGTERM or SIGINT; prints {"url","pubkey","pubkey_ed25519"} once listening'
complete -c fileserver -n "__fish_fileserver_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fileserver -n "__fish_fileserver_using_subcommand serve" -l dir -d 'Data directory (key file <dir>/key.json made on first start, index, files); created if missing' -r -F
complete -c fileserver -n "__fish_fileserver_using_subcommand serve" -l listen -d 'Address to listen on; port 0 picks a free port (the printed url tells which)' -r
complete -c fileserver -n "__fish_fileserver_using_subcommand serve" -l log -d 'Log level or filter (error, warn, info, debug, trace; or a tracing filter), on stderr' -r
complete -c fileserver -n "__fish_fileserver_using_subcommand serve" -l tls -d 'Serve HTTPS with a self-signed certificate made at start'
complete -c fileserver -n "__fish_fileserver_using_subcommand serve" -l compat-ids -d 'Random integer ids below 2^53 (what older apps parse as a double) instead of hash ids'
complete -c fileserver -n "__fish_fileserver_using_subcommand serve" -s h -l help -d 'Print help'
