//! Sentence vectors: `Embedding` (384 f32, unit length), its 8-bit storage form
//! `QuantizedEmbedding`, and the cosine similarity of either.

/// Width of an all-MiniLM-L6-v2 sentence vector.
pub const EMBEDDING_DIM: usize = 384;

/// A sentence vector of unit L2 length, so that the dot product of two is their cosine.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding([f32; EMBEDDING_DIM]);

impl Embedding {
    /// Scales `values` to unit length. An all-zero input (which the model never produces)
    /// stays zero rather than becoming NaN.
    pub fn normalized(mut values: [f32; EMBEDDING_DIM]) -> Embedding {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            values.iter_mut().for_each(|v| *v /= norm);
        }
        Embedding(values)
    }

    pub fn as_slice(&self) -> &[f32; EMBEDDING_DIM] {
        &self.0
    }

    /// The 8-bit form for storage (384 bytes instead of 1536). Each vector gets its own scale,
    /// its largest component mapping to ±127; the scale itself is not kept because
    /// `QuantizedEmbedding::cosine` divides by both norms, which cancels it.
    pub fn quantize(&self) -> QuantizedEmbedding {
        let max_abs = self.0.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut out = [0i8; EMBEDDING_DIM];
        if max_abs > 0.0 {
            let scale = 127.0 / max_abs;
            for (q, v) in out.iter_mut().zip(self.0.iter()) {
                // In range by construction: |v * scale| <= 127.
                *q = (v * scale).round().clamp(-127.0, 127.0) as i8;
            }
        }
        QuantizedEmbedding(out)
    }
}

/// Cosine similarity of two embeddings (their dot product, both being unit length).
pub fn cosine(a: &Embedding, b: &Embedding) -> f32 {
    a.0.iter().zip(b.0.iter()).map(|(x, y)| x * y).sum()
}

/// An embedding quantized to one signed byte per component (see `Embedding::quantize`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizedEmbedding(pub [i8; EMBEDDING_DIM]);

impl QuantizedEmbedding {
    /// Cosine similarity computed in integers: exact integer dot product and norms, one float
    /// division at the end. Zero when either vector is zero.
    pub fn cosine(&self, other: &QuantizedEmbedding) -> f32 {
        let (mut dot, mut norm_a, mut norm_b) = (0i32, 0i32, 0i32);
        for (&a, &b) in self.0.iter().zip(other.0.iter()) {
            let (a, b) = (i32::from(a), i32::from(b));
            dot += a * b;
            norm_a += a * a;
            norm_b += b * b;
        }
        if norm_a == 0 || norm_b == 0 {
            return 0.0;
        }
        (f64::from(dot) / (f64::from(norm_a) * f64::from(norm_b)).sqrt()) as f32
    }

    /// The stored bytes (two's complement, one per component).
    pub fn to_bytes(&self) -> [u8; EMBEDDING_DIM] {
        self.0.map(|q| q as u8)
    }

    /// Reads what `to_bytes` wrote; `None` unless `bytes` has exactly `EMBEDDING_DIM` bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<QuantizedEmbedding> {
        let bytes: &[u8; EMBEDDING_DIM] = bytes.try_into().ok()?;
        Some(QuantizedEmbedding(bytes.map(|b| b as i8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(seed: u32) -> Embedding {
        // A deterministic spread of positive and negative components.
        let mut values = [0.0f32; EMBEDDING_DIM];
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for v in values.iter_mut() {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            *v = (state % 2001) as f32 / 1000.0 - 1.0;
        }
        Embedding::normalized(values)
    }

    #[test]
    fn normalized_vectors_have_unit_length_and_self_cosine_one() {
        let v = vector(7);
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-5);
        assert_eq!(
            Embedding::normalized([0.0; EMBEDDING_DIM]).as_slice(),
            &[0.0; EMBEDDING_DIM]
        );
    }

    #[test]
    fn quantization_keeps_the_largest_component_at_127_and_cosine_close() {
        let (a, b) = (vector(1), vector(2));
        let (qa, qb) = (a.quantize(), b.quantize());
        assert_eq!(qa.0.iter().map(|q| q.unsigned_abs()).max(), Some(127));
        assert!((qa.cosine(&qb) - cosine(&a, &b)).abs() < 0.01);
        assert!((qa.cosine(&qa) - 1.0).abs() < 1e-6);
        assert_eq!(QuantizedEmbedding([0; EMBEDDING_DIM]).cosine(&qa), 0.0);
    }

    #[test]
    fn quantized_bytes_round_trip_and_reject_wrong_lengths() {
        let q = vector(3).quantize();
        assert_eq!(QuantizedEmbedding::from_bytes(&q.to_bytes()), Some(q));
        assert_eq!(QuantizedEmbedding::from_bytes(&[0u8; 10]), None);
    }
}
