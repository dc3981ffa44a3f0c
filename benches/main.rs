//! `make bench`: every benchmark of the toolkit, each printing its figures as lines of
//! `name: value unit` (and the target it is measured against). Pass a section name
//! (`cargo bench -- pow`) to run one section.

mod client;
mod files;
mod identity;
mod network;
mod pow;
mod ratchet;
mod sogs;
mod sync;

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if run("identity") {
        identity::run();
    }
    if run("pow") {
        pow::run();
    }
    if run("ratchet") {
        ratchet::run();
    }
    if run("network") {
        network::run();
    }
    if run("files") {
        files::run();
    }
    if run("client") {
        client::run();
    }
    if run("sync") {
        sync::run();
    }
    if run("sogs") {
        sogs::run();
    }
}
