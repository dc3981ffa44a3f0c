# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_testnet_global_optspecs
    string join \n h/help V/version
end

function __fish_testnet_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_testnet_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_testnet_using_subcommand
    set -l cmd (__fish_testnet_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c testnet -n "__fish_testnet_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c testnet -n "__fish_testnet_needs_command" -s V -l version -d 'Print version'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "up" -d 'Start a registry and N nodes; returns when all are ready'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "exec" -d 'Run a command inside a host of a --hosts testnet (client c1.., registry, a node: 3 or n3); exits with the command\'s exit code. SNKIT_NODES is set to DIR/nodes.json, and the toolkit\'s commands beside testnet come first on PATH'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "partition" -d 'Cut hosts of a --hosts testnet off from all the others (both ways) until `heal`'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "heal" -d 'Undo every `partition` of a --hosts testnet'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "status" -d 'Swarms, and each node\'s health and message count (JSON; a table on a terminal)'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "add" -d 'Add K nodes to the running testnet'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "stop" -d 'Deregister a node (it hands its records on) and stop it with SIGTERM'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "kill" -d 'SIGKILL a node; it stays registered (a crash)'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "start" -d 'Restart a stopped or killed node with its data'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "down" -d 'Stop everything the testnet started'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "registry-serve" -d '(internal) serve DIR/registry.json over HTTP'
complete -c testnet -n "__fish_testnet_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c testnet -n "__fish_testnet_using_subcommand up" -l nodes -d 'Number of nodes' -r
complete -c testnet -n "__fish_testnet_using_subcommand up" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand up" -l pow -d 'Proof-of-work difficulty of the network (0 = off)' -r
complete -c testnet -n "__fish_testnet_using_subcommand up" -l log -d 'Log level of the nodes' -r
complete -c testnet -n "__fish_testnet_using_subcommand up" -l reach-period -d 'Nodes test each other\'s reachability every MS milliseconds and the registry decommissions a node its testers cannot reach (0 = off; docs/faults.md)' -r
complete -c testnet -n "__fish_testnet_using_subcommand up" -l clients -d 'With --hosts: how many client hosts, named c1..cN' -r
complete -c testnet -n "__fish_testnet_using_subcommand up" -l tls -d 'Nodes serve HTTPS with self-signed certificates, as live service nodes do (nodes.json then says "tls": true, and send/retrieve talk HTTPS to them)'
complete -c testnet -n "__fish_testnet_using_subcommand up" -l fileserver -d 'Also start a file server (its {url, pubkey} in DIR/fileserver.json, which upload and download use by default)'
complete -c testnet -n "__fish_testnet_using_subcommand up" -l sogs -d 'Also start a community server (its {url, pubkey} in DIR/sogs.json; administer it with `sogs --dir DIR/sogs`)'
complete -c testnet -n "__fish_testnet_using_subcommand up" -l hosts -d 'A testnet of real hosts (Linux, root): each node, the registry and each client in its own network namespace with its own address on a bridge made for this testnet (docs/testnet.md). Then `exec`, `partition` and `heal` work'
complete -c testnet -n "__fish_testnet_using_subcommand up" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand exec" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand exec" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand partition" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand partition" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand heal" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand heal" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand status" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand status" -l json -d 'JSON even on a terminal'
complete -c testnet -n "__fish_testnet_using_subcommand status" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand add" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand add" -l count -r
complete -c testnet -n "__fish_testnet_using_subcommand add" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand stop" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand stop" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand kill" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand kill" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand start" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand start" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand down" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand down" -s h -l help -d 'Print help'
complete -c testnet -n "__fish_testnet_using_subcommand registry-serve" -l dir -r -F
complete -c testnet -n "__fish_testnet_using_subcommand registry-serve" -l listen -r
complete -c testnet -n "__fish_testnet_using_subcommand registry-serve" -s h -l help -d 'Print help'
