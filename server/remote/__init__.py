"""Remote sessions: records, consent policy, the frame relay and the viewer socket."""
