use pipeline::prelude::*;

#[derive(Ports)]
enum Event {
    Sample(f32),
    Silence,
    Marker { at: u64 },
}

fn main() {}
