//! `attach`: encrypt a file as the Session apps do before uploading it, or decrypt a downloaded
//! blob (spec attachments.md). Upload and download are not this command's: it works on files.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use sha2::{Digest, Sha256};
use snkit::attachments::legacy::{self, LegacyError, LegacyKey};
use snkit::attachments::pointer::{self, AttachmentPointer, PointerError, Scheme as PointerScheme};
use snkit::attachments::profile::{self, ProfileError, ProfileKey};
use snkit::attachments::stream::{self, Domain, SizePolicy, StreamError, StreamKey};
use snkit::cli::{self, CliError};
use snkit::fs::SECRET_FILE_MODE;
use snkit::identity::Identity;
use snkit::limits::PROFILE_MAX_BLOB_BYTES;
use zeroize::Zeroizing;

/// Encrypt or decrypt a Session attachment.
#[derive(Parser, Debug)]
#[command(
    name = "attach",
    version,
    about = "Encrypt or decrypt a Session attachment",
    long_about = "Encrypt a file as the Session apps do before they upload it, or decrypt a downloaded blob.\n\n\
        Schemes: 'stream' (what every app writes today: 'S' + libsodium secretstream, padded to a \
        size bucket, with a key derived from your identity's seed and the file, so the same file \
        gives the same blob), 'legacy' (AES-256-CBC + HMAC-SHA256 with random keys, written \
        2020-2025; its pointer needs the digest and the size) and 'gcm' (old profile pictures: \
        AES-256-GCM under a random profile key).\n\n\
        Binary output goes to a file (written under a temporary name and renamed into place only \
        once complete and, for decrypt, verified) or, with '-o -', to stdout when stdout is not a \
        terminal; the JSON summary then goes to stderr. Decrypting to stdout writes each verified \
        piece as it comes: a failure after that leaves those bytes written, so check the exit code.\n\n\
        Exit: 0 ok, 1 the blob does not decrypt (wrong key, corrupted, truncated, wrong digest), \
        2 bad flags or unreadable input.",
    after_help = "EXAMPLES:\n  \
        keygen -o alice.json\n  \
        attach encrypt photo.jpg --identity alice.json -o photo.enc\n  \
        {\"scheme\":\"stream\",\"key\":\"…64 hex…\",\"size\":48213,\"encrypted_size\":49152,\"sha256\":\"…\",\"out\":\"photo.enc\"}\n  \
        attach decrypt photo.enc --key $KEY -o photo.jpg\n  \
        attach encrypt doc.pdf --scheme legacy -o doc.enc | jq -r .digest\n  \
        attach decrypt doc.enc --key $KEY --digest $DIGEST --size 9000 -o doc.pdf\n  \
        attach decrypt blob --pointer pointer.json -o - | file -"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Encrypt FILE; prints {"scheme","key","digest"?,"size","encrypted_size","sha256","out"}.
    #[command(after_help = "EXAMPLE:\n  attach encrypt photo.jpg --identity alice.json -o photo.enc")]
    Encrypt {
        /// The file to encrypt (a file, not stdin: the stream scheme reads it twice).
        file: PathBuf,
        /// Where the blob goes ('-': stdout, not a terminal). Default: FILE.enc.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
        /// How to encrypt.
        #[arg(long, value_enum, default_value_t = SchemeArg::Stream)]
        scheme: SchemeArg,
        /// Your identity (a `keygen -o` file): its Ed25519 seed keys the stream scheme.
        #[arg(long, value_name = "ID.json")]
        identity: Option<PathBuf>,
        /// What the file is for (stream scheme): the same file gets another key per domain.
        #[arg(long, value_enum)]
        domain: Option<DomainArg>,
        /// Allow a file over 10,218,286 bytes, the apps' regular limit (stream scheme).
        #[arg(long)]
        allow_large: bool,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Decrypt ENC; prints {"scheme","size","encrypted_size","sha256","out"} (sha256 of the file).
    #[command(
        group(ArgGroup::new("keys").required(true).args(["key", "pointer"])),
        after_help = "EXAMPLE:\n  attach decrypt photo.enc --key $KEY -o photo.jpg\n  \
            attach decrypt doc.enc --pointer pointer.json -o doc.pdf   # {\"url\",\"key\",\"size\",\"digest\"?}"
    )]
    Decrypt {
        /// The blob ('-': stdin, stream and gcm schemes only).
        file: PathBuf,
        /// Where the file goes ('-': stdout, not a terminal). Default: ENC without its .enc.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
        /// The key: 32 bytes (stream, gcm) or 64 (legacy), in hex.
        #[arg(long, value_name = "HEX")]
        key: Option<String>,
        /// The legacy blob's SHA-256 digest, in hex (from the pointer).
        #[arg(long, value_name = "HEX", requires = "key")]
        digest: Option<String>,
        /// The file's size (legacy: required, the plaintext is cut to it; stream: checked).
        #[arg(long, value_name = "N", requires = "key")]
        size: Option<u64>,
        /// An AttachmentPointer as JSON: {"url", "key", "size", "digest"?}; the URL's '#d'
        /// fragment means the stream scheme, a digest without it the legacy one.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "scheme"])]
        pointer: Option<PathBuf>,
        /// The scheme, when --key alone cannot tell (gcm); by default a 32-byte key is stream and
        /// a 64-byte key with --digest legacy.
        #[arg(long, value_enum)]
        scheme: Option<SchemeArg>,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemeArg {
    Stream,
    Legacy,
    Gcm,
}

impl SchemeArg {
    fn name(self) -> &'static str {
        match self {
            Self::Stream => "stream",
            Self::Legacy => "legacy",
            Self::Gcm => "gcm",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DomainArg {
    Attachment,
    Profile,
}

fn main() -> ExitCode {
    cli::run("attach", run)
}

fn run(args: Args) -> Result<(), CliError> {
    match args.command {
        Command::Encrypt { file, output, scheme, identity, domain, allow_large, force } => {
            let opts = EncryptOpts { scheme, identity, domain, allow_large };
            encrypt(&file, output, force, &opts)
        }
        Command::Decrypt { file, output, key, digest, size, pointer, scheme, force } => {
            let how = decrypt_plan(key, digest, size, pointer, scheme)?;
            decrypt(&file, output, force, &how)
        }
    }
}

// ---- output ------------------------------------------------------------------------------------

/// Where binary output goes: stdout, or a temporary file next to the destination that becomes
/// the destination only when [`Output::commit`] is called.
enum Output {
    Stdout(io::StdoutLock<'static>),
    File(TempFile),
}

/// A file under a temporary name; dropped, it removes that name (after a commit it is gone
/// already or, when the destination was linked to it, no longer needed).
struct TempFile {
    tmp: PathBuf,
    dest: PathBuf,
    force: bool,
    file: BufWriter<File>,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

impl Output {
    fn open(dest: &Path, force: bool) -> Result<Self, CliError> {
        if dest == Path::new("-") {
            if cli::stdout_is_tty() {
                return Err(CliError::usage("refusing to write binary data to a terminal")
                    .hint("name a file with -o, or pipe stdout into a file or a command"));
            }
            return Ok(Self::Stdout(io::stdout().lock()));
        }
        if !force && dest.exists() {
            return Err(CliError::usage(format!("{} already exists", dest.display()))
                .hint("pass --force to replace it, or name another file with -o"));
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp =
            dest.with_file_name(format!(".{name}.tmp.{}.{}", std::process::id(), rand::random::<u32>()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(SECRET_FILE_MODE)
            .open(&tmp)
            .map_err(|e| CliError::usage(format!("cannot create {}: {e}", tmp.display())))?;
        Ok(Self::File(TempFile { tmp, dest: dest.to_path_buf(), force, file: BufWriter::new(file) }))
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::Stdout(out) => out,
            Self::File(t) => &mut t.file,
        }
    }

    fn is_stdout(&self) -> bool {
        matches!(self, Self::Stdout(_))
    }

    /// Flushes, syncs and moves the temporary file into place; returns the name to report.
    fn commit(self) -> Result<String, CliError> {
        match self {
            Self::Stdout(mut out) => {
                out.flush().map_err(CliError::from_output)?;
                Ok("-".to_string())
            }
            Self::File(mut t) => {
                let fail = |e: io::Error| CliError::failed(format!("cannot write {}: {e}", t.dest.display()));
                t.file.flush().map_err(fail)?;
                t.file.get_ref().sync_all().map_err(fail)?;
                if t.force {
                    fs::rename(&t.tmp, &t.dest).map_err(fail)?;
                } else {
                    // A link fails if the destination appeared meanwhile: never clobber it.
                    fs::hard_link(&t.tmp, &t.dest).map_err(fail)?;
                }
                Ok(t.dest.display().to_string())
            }
        }
    }
}

/// A writer that hashes what passes through it (the summary's "sha256") and counts it.
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    sha: Sha256,
    len: u64,
}

impl<'a> Hashing<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Self { inner, sha: Sha256::new(), len: 0 }
    }

    fn hex(self) -> String {
        hex::encode(self.sha.finalize())
    }
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The summary line: on stdout, or on stderr when stdout carries the binary output.
fn summarize<T: Serialize>(to_stderr: bool, value: &T) -> Result<(), CliError> {
    if !to_stderr {
        return cli::emit(value);
    }
    let line =
        serde_json::to_string(value).map_err(|e| CliError::failed(format!("cannot encode output: {e}")))?;
    let _ = writeln!(io::stderr(), "{line}");
    Ok(())
}

fn open_input(path: &Path) -> Result<File, CliError> {
    File::open(path).map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))
}

// ---- encrypt -----------------------------------------------------------------------------------

struct EncryptOpts {
    scheme: SchemeArg,
    identity: Option<PathBuf>,
    domain: Option<DomainArg>,
    allow_large: bool,
}

#[derive(Serialize)]
struct Encrypted {
    scheme: &'static str,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    size: u64,
    encrypted_size: u64,
    sha256: String,
    out: String,
}

fn encrypt(file: &Path, output: Option<PathBuf>, force: bool, opts: &EncryptOpts) -> Result<(), CliError> {
    if file == Path::new("-") {
        return Err(CliError::usage("encrypt needs a file, not stdin (the file is read twice)")
            .hint("save the input to a file first"));
    }
    if opts.scheme != SchemeArg::Stream {
        let stream_only = [
            (opts.identity.is_some(), "--identity"),
            (opts.domain.is_some(), "--domain"),
            (opts.allow_large, "--allow-large"),
        ];
        if let Some((_, flag)) = stream_only.iter().find(|(given, _)| *given) {
            return Err(CliError::usage(format!("{flag} applies to --scheme stream only")));
        }
    }
    // Check the identity before creating any output.
    let seed = match opts.scheme {
        SchemeArg::Stream => Some(stream_seed(opts.identity.as_deref())?),
        _ => None,
    };
    let mut input = open_input(file)?;
    let dest = output.unwrap_or_else(|| {
        let mut name = file.as_os_str().to_owned();
        name.push(".enc");
        PathBuf::from(name)
    });
    let mut out = Output::open(&dest, force)?;
    let to_stderr = out.is_stdout();
    let mut blob = Hashing::new(out.writer());
    let (key, digest, size) = match opts.scheme {
        SchemeArg::Stream => {
            let domain = match opts.domain {
                Some(DomainArg::Profile) => Domain::ProfilePicture,
                _ => Domain::Attachment,
            };
            let policy = if opts.allow_large { SizePolicy::AllowLarge } else { SizePolicy::Regular };
            let seed = seed.ok_or_else(|| CliError::usage("the stream scheme needs --identity"))?;
            let e = stream::encrypt(seed.as_ref(), domain, policy, &mut input, &mut blob)
                .map_err(stream_error)?;
            (hex::encode(e.key.as_bytes()), None, e.plaintext_len)
        }
        SchemeArg::Legacy => {
            let e = legacy::encrypt(&mut input, &mut blob, &mut rand::rngs::OsRng).map_err(legacy_error)?;
            (hex::encode(e.key.as_bytes()), Some(hex::encode(e.digest)), e.plaintext_len)
        }
        SchemeArg::Gcm => {
            let picture = read_bounded(&mut input, file)?;
            let key = ProfileKey::generate(&mut rand::rngs::OsRng);
            let sealed = profile::encrypt(&key, &picture, &mut rand::rngs::OsRng).map_err(profile_error)?;
            blob.write_all(&sealed).map_err(|e| CliError::failed(format!("cannot write the output: {e}")))?;
            (hex::encode(key.as_bytes()), None, picture.len() as u64)
        }
    };
    let encrypted_size = blob.len;
    let sha256 = blob.hex();
    let out = out.commit()?;
    summarize(
        to_stderr,
        &Encrypted { scheme: opts.scheme.name(), key, digest, size, encrypted_size, sha256, out },
    )
}

/// The 32-byte Ed25519 seed of the identity in `path` (a 16-byte app seed is padded with zeros
/// to make it, as the apps do).
fn stream_seed(path: Option<&Path>) -> Result<Zeroizing<[u8; 32]>, CliError> {
    let path = path.ok_or_else(|| {
        CliError::usage("the stream scheme derives its key from your identity: pass --identity FILE")
            .hint("make one with 'keygen -o me.json', or use --scheme legacy")
    })?;
    let id = Identity::load(path)
        .map_err(|e| CliError::usage(format!("cannot use identity {}: {e}", path.display())))?;
    Ok(Zeroizing::new(id.signing_key().to_bytes()))
}

/// Reads a whole GCM input (a profile picture), refusing more than the format's bound.
fn read_bounded<R: Read>(input: &mut R, name: &Path) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut buf = Zeroizing::new(Vec::new());
    input
        .take(PROFILE_MAX_BLOB_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", name.display())))?;
    if buf.len() > PROFILE_MAX_BLOB_BYTES {
        return Err(CliError::usage(format!(
            "{} is over {PROFILE_MAX_BLOB_BYTES} bytes, the gcm scheme's limit",
            name.display()
        )));
    }
    Ok(buf)
}

// ---- decrypt -----------------------------------------------------------------------------------

/// Everything decryption needs, decided from the flags before any file is touched.
enum Plan {
    Stream { key: StreamKey, size: Option<u64> },
    Legacy { key: LegacyKey, digest: Vec<u8>, size: u64 },
    Gcm { key: ProfileKey, size: Option<u64> },
}

impl Plan {
    fn name(&self) -> &'static str {
        match self {
            Self::Stream { .. } => "stream",
            Self::Legacy { .. } => "legacy",
            Self::Gcm { .. } => "gcm",
        }
    }
}

fn parse_hex(flag: &str, text: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    hex::decode(text.trim())
        .map(Zeroizing::new)
        .map_err(|e| CliError::usage(format!("{flag} is not hex: {e}")))
}

fn decrypt_plan(
    key: Option<String>,
    digest: Option<String>,
    size: Option<u64>,
    pointer: Option<PathBuf>,
    scheme: Option<SchemeArg>,
) -> Result<Plan, CliError> {
    let (key, digest, size, scheme) = match pointer {
        Some(path) => {
            let value = cli::read_json(path.to_str())?;
            let p: AttachmentPointer = serde_json::from_value(value).map_err(|e| {
                CliError::usage(format!("--pointer {}: not an AttachmentPointer: {e}", path.display()))
            })?;
            let scheme = match p.scheme().map_err(|e| CliError::usage(format!("--pointer: {e}")))? {
                PointerScheme::Stream => SchemeArg::Stream,
                PointerScheme::Legacy => SchemeArg::Legacy,
            };
            (Zeroizing::new(p.key.clone()), p.digest.clone(), Some(u64::from(p.size)), scheme)
        }
        None => {
            let key = parse_hex("--key", key.as_deref().unwrap_or_default())?;
            let digest = digest.map(|d| parse_hex("--digest", &d).map(|d| d.to_vec())).transpose()?;
            let scheme = match scheme {
                Some(s) => s,
                None => {
                    // No URL here: a 32-byte key without a digest is the stream format.
                    let stream = key.len() == 32 && digest.is_none();
                    match pointer::choose_scheme(stream, Some(&key), digest.as_deref()) {
                        Ok(PointerScheme::Stream) => SchemeArg::Stream,
                        Ok(PointerScheme::Legacy) => SchemeArg::Legacy,
                        Err(e) => return Err(key_error(e)),
                    }
                }
            };
            (key, digest, size, scheme)
        }
    };
    match scheme {
        SchemeArg::Stream => {
            reject_digest(digest.as_deref(), "stream")?;
            let key = StreamKey::from_bytes(&key).map_err(|e| CliError::usage(format!("--key: {e}")))?;
            Ok(Plan::Stream { key, size })
        }
        SchemeArg::Gcm => {
            reject_digest(digest.as_deref(), "gcm")?;
            let key = ProfileKey::from_bytes(&key).map_err(|e| CliError::usage(format!("--key: {e}")))?;
            Ok(Plan::Gcm { key, size })
        }
        SchemeArg::Legacy => {
            let key = LegacyKey::from_bytes(&key).map_err(|e| CliError::usage(format!("--key: {e}")))?;
            let digest = digest
                .ok_or_else(|| CliError::usage("the legacy scheme needs --digest (from the pointer)"))?;
            if digest.len() != 32 {
                return Err(CliError::usage(format!(
                    "--digest must be 32 bytes (64 hex), got {}",
                    digest.len()
                )));
            }
            let size = size.ok_or_else(|| {
                CliError::usage("the legacy scheme needs --size: the padded file is cut to it")
            })?;
            Ok(Plan::Legacy { key, digest, size })
        }
    }
}

fn reject_digest(digest: Option<&[u8]>, scheme: &str) -> Result<(), CliError> {
    match digest {
        Some(_) => Err(CliError::usage(format!("--digest belongs to the legacy scheme, not {scheme}"))),
        None => Ok(()),
    }
}

fn key_error(e: PointerError) -> CliError {
    match e {
        PointerError::MissingDigest => {
            CliError::usage("a 64-byte key is the legacy scheme's: it needs --digest")
                .hint("pass --digest and --size from the pointer, or --scheme")
        }
        other => CliError::usage(format!("--key: {other}")),
    }
}

#[derive(Serialize)]
struct Decrypted {
    scheme: &'static str,
    size: u64,
    encrypted_size: u64,
    sha256: String,
    out: String,
}

/// A reader that counts what it read (the summary's "encrypted_size", stdin included).
struct Counting<R> {
    inner: R,
    len: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.len += n as u64;
        Ok(n)
    }
}

fn decrypt(file: &Path, output: Option<PathBuf>, force: bool, plan: &Plan) -> Result<(), CliError> {
    // The input is opened before any output exists: an unreadable blob leaves nothing behind.
    let source = if file == Path::new("-") {
        if matches!(plan, Plan::Legacy { .. }) {
            return Err(CliError::usage(
                "the legacy scheme reads its blob twice (HMAC and digest first): name a file, not stdin",
            ));
        }
        None
    } else {
        Some(open_input(file)?)
    };
    let dest = match output {
        Some(o) => o,
        None => default_plain_name(file)?,
    };
    let mut out = Output::open(&dest, force)?;
    let to_stderr = out.is_stdout();
    let mut plain = Hashing::new(out.writer());
    let reader = |source: Option<File>| -> Counting<Box<dyn Read>> {
        let inner: Box<dyn Read> = match source {
            Some(f) => Box::new(f),
            None => Box::new(io::stdin().lock()),
        };
        Counting { inner, len: 0 }
    };
    let (encrypted_size, expected) = match plan {
        Plan::Stream { key, size } => {
            let mut input = reader(source);
            stream::decrypt(key, &mut input, &mut plain).map_err(stream_error)?;
            (input.len, *size)
        }
        Plan::Legacy { key, digest, size } => {
            let mut f = source.ok_or_else(|| CliError::usage("the legacy scheme needs a file"))?;
            legacy::decrypt(key, digest, *size, &mut f, &mut plain).map_err(legacy_error)?;
            let len = f
                .seek(io::SeekFrom::End(0))
                .map_err(|e| CliError::failed(format!("cannot read {}: {e}", file.display())))?;
            (len, None)
        }
        Plan::Gcm { key, size } => {
            let blob = read_bounded(&mut reader(source), file)?;
            let picture = profile::decrypt(key, &blob).map_err(profile_error)?;
            plain
                .write_all(&picture)
                .map_err(|e| CliError::failed(format!("cannot write the output: {e}")))?;
            (blob.len() as u64, *size)
        }
    };
    if let Some(size) = expected
        && size != plain.len
    {
        return Err(CliError::failed(format!(
            "the blob decrypted to {} bytes, but the expected size is {size}",
            plain.len
        )));
    }
    let size = plain.len;
    let sha256 = plain.hex();
    let out = out.commit()?;
    summarize(to_stderr, &Decrypted { scheme: plan.name(), size, encrypted_size, sha256, out })
}

/// ENC without its `.enc` suffix; a blob without one needs -o.
fn default_plain_name(file: &Path) -> Result<PathBuf, CliError> {
    let name = file.to_str().and_then(|s| s.strip_suffix(".enc")).filter(|s| !s.is_empty() && *s != "-");
    name.map(PathBuf::from)
        .ok_or_else(|| CliError::usage("name the output with -o (the input has no .enc suffix to drop)"))
}

// ---- errors ------------------------------------------------------------------------------------

fn stream_error(e: StreamError) -> CliError {
    match e {
        StreamError::TooLarge { .. } => CliError::usage(&e).hint("pass --allow-large to encrypt it anyway"),
        // An input that cannot be read (a directory, an I/O error) is bad input, not a bad blob.
        StreamError::SeedLength(_) | StreamError::KeyLength(_) | StreamError::Read(_) => CliError::usage(e),
        StreamError::BadPrefix(_) => CliError::failed(&e)
            .hint("a legacy blob needs --digest and --size, an old profile picture --scheme gcm"),
        _ => CliError::failed(e),
    }
}

fn legacy_error(e: LegacyError) -> CliError {
    match e {
        LegacyError::KeyLength(_) | LegacyError::DigestLength(_) | LegacyError::Read(_) => CliError::usage(e),
        _ => CliError::failed(e),
    }
}

fn profile_error(e: ProfileError) -> CliError {
    match e {
        ProfileError::KeyLength(_) | ProfileError::Empty | ProfileError::TooLarge(_) => CliError::usage(e),
        ProfileError::TooShort(_) | ProfileError::Authentication => CliError::failed(e),
    }
}
