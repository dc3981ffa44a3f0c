# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_pow_global_optspecs
    string join \n h/help V/version
end

function __fish_pow_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_pow_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_pow_using_subcommand
    set -l cmd (__fish_pow_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c pow -n "__fish_pow_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pow -n "__fish_pow_needs_command" -s V -l version -d 'Print version'
complete -c pow -n "__fish_pow_needs_command" -f -a "solve" -d 'Find the smallest nonce (counting up from zero) and print the envelope with "nonce" added'
complete -c pow -n "__fish_pow_needs_command" -f -a "verify" -d 'Check an envelope\'s nonce: prints {"valid":...} and exits 0 if valid, 1 if not'
complete -c pow -n "__fish_pow_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c pow -n "__fish_pow_using_subcommand solve" -s d -l difficulty -d 'The network\'s difficulty (the registry\'s pow_difficulty); 0 = off (nonce 0)' -r
complete -c pow -n "__fish_pow_using_subcommand solve" -s t -l threads -d 'Solver threads (default: every core)' -r
complete -c pow -n "__fish_pow_using_subcommand solve" -s h -l help -d 'Print help'
complete -c pow -n "__fish_pow_using_subcommand verify" -s d -l difficulty -d 'The difficulty to check against; 0 = off (always valid)' -r
complete -c pow -n "__fish_pow_using_subcommand verify" -s h -l help -d 'Print help'
