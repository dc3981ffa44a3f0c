# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_attach_global_optspecs
    string join \n h/help V/version
end

function __fish_attach_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_attach_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_attach_using_subcommand
    set -l cmd (__fish_attach_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c attach -n "__fish_attach_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c attach -n "__fish_attach_needs_command" -s V -l version -d 'Print version'
complete -c attach -n "__fish_attach_needs_command" -f -a "encrypt" -d 'Encrypt FILE; prints {"scheme","key","digest"?,"size","encrypted_size","sha256","out"}'
complete -c attach -n "__fish_attach_needs_command" -f -a "decrypt" -d 'Decrypt ENC; prints {"scheme","size","encrypted_size","sha256","out"} (sha256 of the file)'
complete -c attach -n "__fish_attach_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c attach -n "__fish_attach_using_subcommand encrypt" -s o -l output -d 'Where the blob goes (\'-\': stdout, not a terminal). Default: FILE.enc' -r -F
complete -c attach -n "__fish_attach_using_subcommand encrypt" -l scheme -d 'How to encrypt' -r -f -a "stream\t''
legacy\t''
gcm\t''"
complete -c attach -n "__fish_attach_using_subcommand encrypt" -l identity -d 'Your identity (a `keygen -o` file): its Ed25519 seed keys the stream scheme' -r -F
complete -c attach -n "__fish_attach_using_subcommand encrypt" -l domain -d 'What the file is for (stream scheme): the same file gets another key per domain' -r -f -a "attachment\t''
profile\t''"
complete -c attach -n "__fish_attach_using_subcommand encrypt" -l allow-large -d 'Allow a file over 10,218,286 bytes, the apps\' regular limit (stream scheme)'
complete -c attach -n "__fish_attach_using_subcommand encrypt" -l force -d 'Replace OUT if it exists'
complete -c attach -n "__fish_attach_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c attach -n "__fish_attach_using_subcommand decrypt" -s o -l output -d 'Where the file goes (\'-\': stdout, not a terminal). Default: ENC without its .enc' -r -F
complete -c attach -n "__fish_attach_using_subcommand decrypt" -l key -d 'The key: 32 bytes (stream, gcm) or 64 (legacy), in hex' -r
complete -c attach -n "__fish_attach_using_subcommand decrypt" -l digest -d 'The legacy blob\'s SHA-256 digest, in hex (from the pointer)' -r
complete -c attach -n "__fish_attach_using_subcommand decrypt" -l size -d 'The file\'s size (legacy: required, the plaintext is cut to it; stream: checked)' -r
complete -c attach -n "__fish_attach_using_subcommand decrypt" -l pointer -d 'An AttachmentPointer as JSON: {"url", "key", "size", "digest"?}; the URL\'s \'#d\' fragment means the stream scheme, a digest without it the legacy one' -r -F
complete -c attach -n "__fish_attach_using_subcommand decrypt" -l scheme -d 'The scheme, when --key alone cannot tell (gcm); by default a 32-byte key is stream and a 64-byte key with --digest legacy' -r -f -a "stream\t''
legacy\t''
gcm\t''"
complete -c attach -n "__fish_attach_using_subcommand decrypt" -l force -d 'Replace OUT if it exists'
complete -c attach -n "__fish_attach_using_subcommand decrypt" -s h -l help -d 'Print help'
