# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mnemonic_global_optspecs
    string join \n h/help V/version
end

function __fish_mnemonic_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mnemonic_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mnemonic_using_subcommand
    set -l cmd (__fish_mnemonic_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mnemonic -n "__fish_mnemonic_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mnemonic -n "__fish_mnemonic_needs_command" -s V -l version -d 'Print version'
complete -c mnemonic -n "__fish_mnemonic_needs_command" -f -a "encode" -d 'Seed → phrase'
complete -c mnemonic -n "__fish_mnemonic_needs_command" -f -a "decode" -d 'Phrase → seed'
complete -c mnemonic -n "__fish_mnemonic_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mnemonic -n "__fish_mnemonic_using_subcommand encode" -l format -d 'Phrase format' -r -f -a "session\t'The Session app\'s recovery phrase (1626-word list, checksum word)'
bip39\t'BIP-39 (2048-word English list, checksum bits)'"
complete -c mnemonic -n "__fish_mnemonic_using_subcommand encode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mnemonic -n "__fish_mnemonic_using_subcommand decode" -l format -d 'Phrase format (default: detect)' -r -f -a "session\t'The Session app\'s recovery phrase (1626-word list, checksum word)'
bip39\t'BIP-39 (2048-word English list, checksum bits)'"
complete -c mnemonic -n "__fish_mnemonic_using_subcommand decode" -s h -l help -d 'Print help (see more with \'--help\')'
