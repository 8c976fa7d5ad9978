//! The BERT encoder forward pass over mapped weights, then mean pooling to unit vectors.
//! Sequences are never padded: the dense layers run on all of a batch's tokens stacked
//! together (one large matrix product each), attention runs per sequence.

use super::config::BertConfig;
use super::error::ModelError;
use super::matmul::{gemm, Mat, MatMut};
use super::tokenizer::TokenId;
use super::vector::{Embedding, EMBEDDING_DIM};
use super::weights::{TensorRef, Weights};
use std::path::Path;

pub(crate) struct Bert {
    config: BertConfig,
    weights: Weights,
    word_embeddings: TensorRef,
    position_embeddings: TensorRef,
    token_type_embeddings: TensorRef,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

struct Linear {
    weight: TensorRef,
    bias: TensorRef,
    inputs: usize,
    outputs: usize,
}

struct LayerNorm {
    gamma: TensorRef,
    beta: TensorRef,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_output: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// Finds every tensor the forward pass reads, with its expected shape, so that a missing or
/// misshapen tensor is a load error rather than a panic mid-inference.
struct Finder<'a> {
    weights: &'a Weights,
    /// "" for sentence-transformers exports; "bert." for checkpoints saved from
    /// `BertForPreTraining` and the like, which nest the encoder under that name.
    prefix: &'static str,
}

impl Finder<'_> {
    fn tensor(&self, name: &str, shape: &[usize]) -> Result<TensorRef, ModelError> {
        self.weights
            .tensor(&format!("{}{name}", self.prefix), shape)
    }

    fn linear(&self, name: &str, inputs: usize, outputs: usize) -> Result<Linear, ModelError> {
        Ok(Linear {
            weight: self.tensor(&format!("{name}.weight"), &[outputs, inputs])?,
            bias: self.tensor(&format!("{name}.bias"), &[outputs])?,
            inputs,
            outputs,
        })
    }

    fn norm(&self, name: &str, width: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm {
            gamma: self.tensor(&format!("{name}.weight"), &[width])?,
            beta: self.tensor(&format!("{name}.bias"), &[width])?,
        })
    }
}

impl Bert {
    pub(super) fn load(config: BertConfig, weights_path: &Path) -> Result<Bert, ModelError> {
        let weights = Weights::open(weights_path)?;
        let bare = Finder {
            weights: &weights,
            prefix: "",
        };
        let prefixed = Finder {
            weights: &weights,
            prefix: "bert.",
        };
        let probe = "embeddings.word_embeddings.weight";
        let find = if bare
            .tensor(probe, &[config.vocab_size, config.hidden])
            .is_ok()
        {
            bare
        } else if prefixed
            .tensor(probe, &[config.vocab_size, config.hidden])
            .is_ok()
        {
            prefixed
        } else {
            // Report the error for the plain name, which names the problem.
            bare
        };
        let h = config.hidden;
        let word_embeddings = find.tensor(probe, &[config.vocab_size, h])?;
        let position_embeddings = find.tensor(
            "embeddings.position_embeddings.weight",
            &[config.max_positions, h],
        )?;
        let token_type_embeddings = find.tensor(
            "embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, h],
        )?;
        let embedding_norm = find.norm("embeddings.LayerNorm", h)?;
        let mut layers = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            let at = |part: &str| format!("encoder.layer.{i}.{part}");
            layers.push(Layer {
                query: find.linear(&at("attention.self.query"), h, h)?,
                key: find.linear(&at("attention.self.key"), h, h)?,
                value: find.linear(&at("attention.self.value"), h, h)?,
                attention_output: find.linear(&at("attention.output.dense"), h, h)?,
                attention_norm: find.norm(&at("attention.output.LayerNorm"), h)?,
                intermediate: find.linear(&at("intermediate.dense"), h, config.intermediate)?,
                output: find.linear(&at("output.dense"), config.intermediate, h)?,
                output_norm: find.norm(&at("output.LayerNorm"), h)?,
            });
        }
        Ok(Bert {
            word_embeddings,
            position_embeddings,
            token_type_embeddings,
            embedding_norm,
            layers,
            weights,
            config,
        })
    }

    pub(super) fn config(&self) -> &BertConfig {
        &self.config
    }

    /// One embedding per sequence. Each sequence must be non-empty, at most
    /// `max_positions` long, with ids below `vocab_size` (the tokenizer's output, which
    /// `Embedder::load` checks against the config, always is).
    pub(super) fn embed(&self, sequences: &[&[TokenId]]) -> Vec<Embedding> {
        let h = self.config.hidden;
        let mut segments = Vec::with_capacity(sequences.len());
        let (mut total, mut longest) = (0, 0);
        for seq in sequences {
            assert!(
                !seq.is_empty() && seq.len() <= self.config.max_positions,
                "sequence length {} outside 1..={}",
                seq.len(),
                self.config.max_positions
            );
            segments.push(total..total + seq.len());
            total += seq.len();
            longest = longest.max(seq.len());
        }
        let mut x = self.embed_tokens(sequences, total);
        let mut scratch = Scratch::new(total, longest, h, self.config.intermediate);
        for layer in &self.layers {
            self.layer_forward(layer, &mut x, &segments, &mut scratch);
        }
        segments
            .iter()
            .map(|rows| {
                // Mean pooling over every token, [CLS] and [SEP] included (all are unmasked).
                let mut sum = [0.0f32; EMBEDDING_DIM];
                for row in x[rows.start * h..rows.end * h].chunks_exact(h) {
                    sum.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                }
                let n = rows.len() as f32;
                sum.iter_mut().for_each(|s| *s /= n);
                Embedding::normalized(sum)
            })
            .collect()
    }

    /// Word + position + token-type (always type 0: single sentences) embeddings, normed.
    fn embed_tokens(&self, sequences: &[&[TokenId]], total: usize) -> Vec<f32> {
        let h = self.config.hidden;
        let words = self.weights.get(&self.word_embeddings);
        let positions = self.weights.get(&self.position_embeddings);
        let token_type = &self.weights.get(&self.token_type_embeddings)[..h];
        let mut x = Vec::with_capacity(total * h);
        for seq in sequences {
            for (position, &id) in seq.iter().enumerate() {
                let word = &words[id as usize * h..][..h];
                let pos = &positions[position * h..][..h];
                x.extend((0..h).map(|i| word[i] + pos[i] + token_type[i]));
            }
        }
        self.layer_norm(&mut x, &self.embedding_norm);
        x
    }

    fn layer_forward(
        &self,
        layer: &Layer,
        x: &mut [f32],
        segments: &[std::ops::Range<usize>],
        s: &mut Scratch,
    ) {
        let h = self.config.hidden;
        let d = self.config.head_dim();
        let scale = 1.0 / (d as f32).sqrt();
        self.linear(x, &layer.query, &mut s.q);
        self.linear(x, &layer.key, &mut s.k);
        self.linear(x, &layer.value, &mut s.v);
        for rows in segments {
            let n = rows.len();
            let q = Mat::rows(&s.q[rows.start * h..rows.end * h], n, h);
            let k = Mat::rows(&s.k[rows.start * h..rows.end * h], n, h);
            let v = Mat::rows(&s.v[rows.start * h..rows.end * h], n, h);
            let scores = &mut s.scores[..n * n];
            for head in 0..self.config.heads {
                let cols = head * d;
                gemm(
                    scale,
                    q.columns(cols, d),
                    k.columns(cols, d).t(),
                    0.0,
                    MatMut::rows(scores, n, n),
                );
                scores.chunks_exact_mut(n).for_each(softmax);
                let context = MatMut::rows(&mut s.context[rows.start * h..rows.end * h], n, h);
                gemm(
                    1.0,
                    Mat::rows(scores, n, n),
                    v.columns(cols, d),
                    0.0,
                    context.columns(cols, d),
                );
            }
        }
        self.linear(&s.context, &layer.attention_output, &mut s.projected);
        add(x, &s.projected);
        self.layer_norm(x, &layer.attention_norm);
        self.linear(x, &layer.intermediate, &mut s.intermediate);
        s.intermediate.iter_mut().for_each(|v| *v = gelu(*v));
        self.linear(&s.intermediate, &layer.output, &mut s.projected);
        add(x, &s.projected);
        self.layer_norm(x, &layer.output_norm);
    }

    /// `out = input · weightᵀ + bias` for every row of `input` (PyTorch's `Linear`).
    fn linear(&self, input: &[f32], linear: &Linear, out: &mut [f32]) {
        let rows = input.len() / linear.inputs;
        let bias = self.weights.get(&linear.bias);
        out.chunks_exact_mut(linear.outputs)
            .for_each(|row| row.copy_from_slice(bias));
        gemm(
            1.0,
            Mat::rows(input, rows, linear.inputs),
            Mat::transposed(
                self.weights.get(&linear.weight),
                linear.outputs,
                linear.inputs,
            ),
            1.0,
            MatMut::rows(out, rows, linear.outputs),
        );
    }

    fn layer_norm(&self, x: &mut [f32], norm: &LayerNorm) {
        let gamma = self.weights.get(&norm.gamma);
        let beta = self.weights.get(&norm.beta);
        let eps = self.config.layer_norm_eps;
        for row in x.chunks_exact_mut(self.config.hidden) {
            let n = row.len() as f32;
            let mean = row.iter().sum::<f32>() / n;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv_std = 1.0 / (variance + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = (*v - mean) * inv_std * g + b;
            }
        }
    }
}

/// Per-call buffers, sized for the batch's stacked tokens.
struct Scratch {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    context: Vec<f32>,
    projected: Vec<f32>,
    intermediate: Vec<f32>,
    /// One head's attention matrix, sized for the batch's longest sequence.
    scores: Vec<f32>,
}

impl Scratch {
    fn new(tokens: usize, longest: usize, hidden: usize, intermediate: usize) -> Scratch {
        let dense = || vec![0.0; tokens * hidden];
        Scratch {
            q: dense(),
            k: dense(),
            v: dense(),
            context: dense(),
            projected: dense(),
            intermediate: vec![0.0; tokens * intermediate],
            scores: vec![0.0; longest * longest],
        }
    }
}

fn add(x: &mut [f32], delta: &[f32]) {
    x.iter_mut().zip(delta).for_each(|(v, d)| *v += d);
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

/// GELU as BERT defines it, `x · Φ(x)` with the exact normal CDF (not the tanh shortcut).
fn gelu(x: f32) -> f32 {
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let tail = 0.5 * erfc_nonnegative(z); // P(N(0,1) > |x|)
    if x >= 0.0 {
        x * (1.0 - tail)
    } else {
        // Taken from the tail directly: 1 - Φ(|x|) would cancel to 0 for large |x|.
        x * tail
    }
}

/// erfc(z) for z ≥ 0, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), which
/// is well under the f32 noise of the layers around it. std has no erf.
fn erfc_nonnegative(z: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_8,
        -1.453_152_1,
        1.061_405_4,
    ];
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    poly * (-z * z).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_matches_known_values() {
        // x · Φ(x) from tables of the normal CDF.
        for (x, expected) in [
            (0.0, 0.0),
            (1.0, 0.841_344_7),
            (-1.0, -0.158_655_3),
            (2.5, 2.484_476),
            (-3.0, -0.004_049_6),
            (-10.0, 0.0),
        ] {
            assert!((gelu(x) - expected).abs() < 2e-6, "gelu({x}) = {}", gelu(x));
        }
    }

    #[test]
    fn softmax_is_a_distribution_even_for_large_scores() {
        let mut row = [1000.0, 1001.0, 999.0];
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(row[1] > row[0] && row[0] > row[2]);
    }
}
