# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ratchet_global_optspecs
    string join \n h/help V/version
end

function __fish_ratchet_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ratchet_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ratchet_using_subcommand
    set -l cmd (__fish_ratchet_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ratchet -n "__fish_ratchet_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ratchet -n "__fish_ratchet_needs_command" -s V -l version -d 'Print version'
complete -c ratchet -n "__fish_ratchet_needs_command" -f -a "bundle" -d 'Print a prekey bundle: a new signed prekey when due (weekly), N fresh one-time prekeys'
complete -c ratchet -n "__fish_ratchet_needs_command" -f -a "request" -d 'Print a friend request to SESSION_ID; the introduction is read from stdin'
complete -c ratchet -n "__fish_ratchet_needs_command" -f -a "accept" -d 'Accept a friend request (FILE or stdin): verify it, start the session, print our first message'
complete -c ratchet -n "__fish_ratchet_needs_command" -f -a "encrypt" -d 'Encrypt stdin (one message; one trailing newline dropped) to SESSION_ID: one wire message line'
complete -c ratchet -n "__fish_ratchet_needs_command" -f -a "decrypt" -d 'Decrypt NDJSON messages (FILE or stdin): one output line per input line, in order'
complete -c ratchet -n "__fish_ratchet_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ratchet -n "__fish_ratchet_using_subcommand bundle" -l identity -d 'The identity file (as `keygen -o` writes it)' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand bundle" -l state -d 'The state directory [default: $XDG_DATA_HOME/snkit/ratchet/<session_id>]' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand bundle" -l opks -d 'Number of fresh one-time prekeys to make and publish' -r
complete -c ratchet -n "__fish_ratchet_using_subcommand bundle" -s h -l help -d 'Print help'
complete -c ratchet -n "__fish_ratchet_using_subcommand request" -l identity -d 'The identity file (as `keygen -o` writes it)' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand request" -l state -d 'The state directory [default: $XDG_DATA_HOME/snkit/ratchet/<session_id>]' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand request" -l to -d 'The recipient\'s Session ID' -r
complete -c ratchet -n "__fish_ratchet_using_subcommand request" -l bundle -d 'Our own bundle to enclose (from `ratchet bundle`); `-` = first line of stdin' -r
complete -c ratchet -n "__fish_ratchet_using_subcommand request" -l name -d 'Our display name' -r
complete -c ratchet -n "__fish_ratchet_using_subcommand request" -s h -l help -d 'Print help'
complete -c ratchet -n "__fish_ratchet_using_subcommand accept" -l identity -d 'The identity file (as `keygen -o` writes it)' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand accept" -l state -d 'The state directory [default: $XDG_DATA_HOME/snkit/ratchet/<session_id>]' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand accept" -l text -d 'Text of our first message' -r
complete -c ratchet -n "__fish_ratchet_using_subcommand accept" -l force -d 'Start over even if a session with the sender exists'
complete -c ratchet -n "__fish_ratchet_using_subcommand accept" -s h -l help -d 'Print help'
complete -c ratchet -n "__fish_ratchet_using_subcommand encrypt" -l identity -d 'The identity file (as `keygen -o` writes it)' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand encrypt" -l state -d 'The state directory [default: $XDG_DATA_HOME/snkit/ratchet/<session_id>]' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand encrypt" -l to -d 'The peer\'s Session ID (a session must exist: request/accept first)' -r
complete -c ratchet -n "__fish_ratchet_using_subcommand encrypt" -l attach -d 'An attachment pointer file (what `upload` prints) to send in the message (repeatable): the plaintext becomes {"text", "attachments"}, which `decrypt` prints as they are' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c ratchet -n "__fish_ratchet_using_subcommand decrypt" -l identity -d 'The identity file (as `keygen -o` writes it)' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand decrypt" -l state -d 'The state directory [default: $XDG_DATA_HOME/snkit/ratchet/<session_id>]' -r -F
complete -c ratchet -n "__fish_ratchet_using_subcommand decrypt" -s h -l help -d 'Print help'
