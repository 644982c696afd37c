//! Prints the readable form of a `.flopack`: `cargo run -p steward-flows --example readable -- FILE`
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: readable FILE.flopack");
    let import = steward_flows::import(&std::fs::read(path).unwrap()).unwrap();
    print!("{}", steward_flows::readable(&import.flopack));
}
