//! Helpers for unit tests.

use rand_chacha::rand_core::{RngCore, SeedableRng};

/// `count` random byte strings of lengths up to `max`, from a fixed seed: input that
/// a parser of kernel or wire data must survive.
pub(crate) fn random_bytes(seed: u64, count: usize, max: usize) -> Vec<Vec<u8>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let mut b = vec![0u8; (rng.next_u32() as usize) % (max + 1)];
            rng.fill_bytes(&mut b);
            b
        })
        .collect()
}
