//! Arbitrary bytes as a TSA's reply to the TSP client (`[timestamp] url`, `sign --tsa`): the
//! client's checks of status, token, nonce and imprint (`qoltanba::fuzzing::tsp_read_reply`)
//! never panic, and what they accept is a time-stamp token that reads back with the request's
//! nonce and imprint.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|reply: &[u8]| {
    if let Ok(token) = qoltanba::fuzzing::tsp_read_reply(reply) {
        let info =
            qoltanba::verify::read_time_stamp_token(&token).expect("an accepted token reads");
        assert_eq!(info.nonce.as_deref(), Some(&[1u8, 2, 3, 4, 5, 6, 7, 8][..]));
        assert_eq!(info.imprint, qoltanba::crypto::sha256(b"qoltanba").to_vec());
    }
});
