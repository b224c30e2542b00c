use pipeline::prelude::*;

struct Frame(Vec<u8>);

#[derive(Ports)]
enum Track {
    Video(Frame),
    Audio(Vec<i16>),
}

fn main() {
    let mut p = pipeline! {
        demux = Map::new(|x: i64| if x > 0 { Track::Video(Frame(vec![1])) } else { Track::Audio(vec![2]) });
        input -> demux;
        demux.video -> output.first;
        demux.video -> output.second;
    };
    let _ = p.run(0..4);
}
