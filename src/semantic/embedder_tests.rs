//! Tests on the real all-MiniLM-L6-v2 files: published similarities, the tokenizer on the
//! real vocabulary, batching, truncation, quantization, and errors on damaged files.
//! They fail (never skip) without the model: run scripts/fetch-model.sh first.

use super::model_files;
use super::{cosine, Embedder, ModelError, EMBEDDING_DIM};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn model_dir() -> PathBuf {
    model_files::dev_model_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// Loaded once for all tests of this binary.
fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| {
        let dir = model_dir();
        Embedder::load(&dir)
            .unwrap_or_else(|e| panic!("the semantic tests need the real all-MiniLM-L6-v2: {e}"))
    })
}

fn similarity(a: &str, b: &str) -> f32 {
    let e = embedder();
    cosine(&e.embed(a), &e.embed(b))
}

#[test]
fn one_embedder_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Embedder>();
}

#[test]
fn reproduces_the_published_sentence_transformers_similarities() {
    let great = similarity("The new movie is awesome", "The new movie is so great");
    let garden = similarity("The cat sits outside", "The dog plays in the garden");
    assert!((great - 0.8939).abs() < 0.001, "awesome/great: {great:.4}");
    assert!((garden - 0.2838).abs() < 0.001, "cat/dog: {garden:.4}");
}

#[test]
fn embeddings_are_unit_vectors_and_related_texts_are_closer() {
    let e = embedder();
    let v = e.embed("Rust 1.80 released with LazyCell and LazyLock");
    let norm: f32 = v.as_slice().iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    assert_eq!(v.as_slice().len(), EMBEDDING_DIM);
    let related = similarity(
        "Scaling PostgreSQL to millions of writes per second",
        "How we sharded our Postgres database",
    );
    let unrelated = similarity(
        "Scaling PostgreSQL to millions of writes per second",
        "My grandmother's apple pie recipe",
    );
    assert!(related > unrelated + 0.3, "{related} vs {unrelated}");
    // Empty text is [CLS] [SEP]: still a valid unit vector.
    let empty = e.embed("");
    assert!((cosine(&empty, &empty) - 1.0).abs() < 1e-5);
}

/// Token strings as the reference (Hugging Face `tokenizers` with this tokenizer.json)
/// produces them, checked during development.
#[test]
fn tokenizer_matches_bert_uncased_wordpiece_on_tricky_text() {
    let e = embedder();
    let tokens = |text: &str| -> Vec<String> {
        e.token_ids(text)
            .into_iter()
            .map(|id| e.tokenizer().token_of(id).unwrap_or("?").to_string())
            .collect()
    };
    let cases: &[(&str, &[&str])] = &[
        (
            "Héllo Wörld! Naïve café, résumé",
            &["hello", "world", "!", "naive", "cafe", ",", "resume"],
        ),
        (
            "C++ vs. C# in 2024?",
            &["c", "+", "+", "vs", ".", "c", "#", "in", "202", "##4", "?"],
        ),
        (
            "https://example.com/path?q=1&x=2#frag",
            &[
                "https", ":", "/", "/", "example", ".", "com", "/", "path", "?", "q", "=", "1",
                "&", "x", "=", "2", "#", "fra", "##g",
            ],
        ),
        (
            "unaffable supercalifragilisticexpialidocious",
            &[
                "una", "##ffa", "##ble", "super", "##cal", "##if", "##rag", "##ilis", "##tic",
                "##ex", "##pia", "##lid", "##oc", "##ious",
            ],
        ),
        (
            "don't stop—it's GPT-4o's “best” release…",
            &[
                "don", "'", "t", "stop", "—", "it", "'", "s", "gp", "##t", "-", "4", "##o", "'",
                "s", "“", "best", "”", "release", "…",
            ],
        ),
        (
            "🚀 Launch: $5 ¥ € 3½ ©",
            &["[UNK]", "launch", ":", "$", "5", "¥", "€", "3", "##½", "©"],
        ),
        (
            "日本語のテキスト",
            &["日", "本", "語", "の", "##テ", "##キ", "##ス", "##ト"],
        ),
        (
            "ΟΔΟΣ Σίσυφος",
            &[
                "ο", "##δ", "##ο", "##σ", "σ", "##ι", "##σ", "##υ", "##φ", "##ος",
            ],
        ),
        (
            "zero\u{200b}width soft\u{ad}hyphen x\u{b}y\u{85}z",
            &[
                "zero", "##wi", "##dt", "##h", "soft", "##hy", "##ph", "##en", "x", "##y", "##z",
            ],
        ),
        ("İstanbul Straße", &["istanbul", "st", "##raße"]),
        (
            // Virama and the vowel sign e are nonspacing marks (stripped), sign i is not.
            "नमस्ते दुनिया",
            &["न", "##म", "##स", "##त", "द", "##न", "##ि", "##य", "##ा"],
        ),
        (
            "foo_bar baz-qux 3.14 1,000",
            &[
                "foo", "_", "bar", "ba", "##z", "-", "qu", "##x", "3", ".", "14", "1", ",", "000",
            ],
        ),
    ];
    for (text, expected) in cases {
        let got = tokens(text);
        assert_eq!(got.first().map(String::as_str), Some("[CLS]"), "{text}");
        assert_eq!(got.last().map(String::as_str), Some("[SEP]"), "{text}");
        assert_eq!(&got[1..got.len() - 1], *expected, "{text}");
    }
    // 100 characters are still split; 101 are one [UNK].
    assert_eq!(tokens(&"a".repeat(101)), ["[CLS]", "[UNK]", "[SEP]"]);
    assert_eq!(tokens(&"a".repeat(100)).len(), 52);
}

#[test]
fn long_text_is_truncated_to_the_token_limit_ending_with_sep() {
    let e = embedder();
    let text = "feed aggregation and ranking of developer stories ".repeat(40);
    let ids = e.token_ids(&text);
    assert_eq!(ids.len(), 128);
    assert_eq!(e.tokenizer().token_of(ids[127]), Some("[SEP]"));
    let longer = Embedder::load(&model_dir())
        .expect("model loads")
        .with_max_tokens(256);
    assert_eq!(longer.token_ids(&text).len(), 256);
    assert_eq!(longer.with_max_tokens(100_000).max_tokens(), 512);
}

#[test]
fn batch_embeddings_equal_one_at_a_time() {
    let e = embedder();
    let long = "a story about distributed consensus, ".repeat(30);
    let texts = [
        "Show HN: a tiny feed reader",
        "",
        long.as_str(),
        "Why we moved off Kubernetes",
    ];
    let batch = e.embed_batch(&texts);
    assert_eq!(batch.len(), texts.len());
    for (text, batched) in texts.iter().zip(&batch) {
        let single = e.embed(text);
        assert!(
            (cosine(&single, batched) - 1.0).abs() < 1e-5,
            "{text:?} differs in a batch"
        );
    }
    assert!(e.embed_batch(&[]).is_empty());
}

#[test]
fn quantized_cosine_stays_within_a_hundredth_of_f32() {
    let e = embedder();
    let texts = [
        "The new movie is awesome",
        "The new movie is so great",
        "The cat sits outside",
        "The dog plays in the garden",
        "Rust async runtimes compared",
        "A deep dive into Tokio's scheduler",
    ];
    let vectors = e.embed_batch(&texts);
    for a in &vectors {
        for b in &vectors {
            let exact = cosine(a, b);
            let quantized = a.quantize().cosine(&b.quantize());
            assert!((exact - quantized).abs() < 0.01, "{exact} vs {quantized}");
        }
    }
}

/// A model directory in a tempdir with the real config and tokenizer and `weights` as
/// model.safetensors.
fn model_dir_with_weights(weights: &[u8]) -> tempfile::TempDir {
    let source = model_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [model_files::CONFIG_FILE, model_files::TOKENIZER_FILE] {
        std::fs::copy(source.join(name), dir.path().join(name))
            .unwrap_or_else(|e| panic!("copy {name}: {e}; run scripts/fetch-model.sh"));
    }
    std::fs::write(dir.path().join(model_files::WEIGHTS_FILE), weights).expect("write weights");
    dir
}

fn load_error(dir: &Path) -> String {
    match Embedder::load(dir) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

/// A one-tensor safetensors file, written by hand as the format defines it.
fn safetensors_with(name: &str, shape: &[usize]) -> Vec<u8> {
    let count: usize = shape.iter().product();
    let header = format!(
        r#"{{"{name}":{{"dtype":"F32","shape":{shape:?},"data_offsets":[0,{}]}}}}"#,
        count * 4
    );
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.resize(bytes.len() + count * 4, 0);
    bytes
}

#[test]
fn damaged_weights_are_a_model_error_naming_the_file_never_a_panic() {
    // The first megabyte of the real file: its whole header and part of the data. (Not
    // more: the store tests reopening sled databases in parallel are sensitive to disk load.)
    let mut real = Vec::new();
    std::fs::File::open(model_dir().join(model_files::WEIGHTS_FILE))
        .and_then(|file| file.take(1 << 20).read_to_end(&mut real))
        .expect("model.safetensors readable; run scripts/fetch-model.sh");

    let truncated = model_dir_with_weights(&real);
    let message = load_error(truncated.path());
    assert!(
        message.contains("model.safetensors") && message.contains("truncated"),
        "{message}"
    );

    for garbage in [&b""[..], &b"\x05\0\0\0\0\0\0\0{"[..], &real[..100]] {
        let dir = model_dir_with_weights(garbage);
        let message = load_error(dir.path());
        assert!(message.contains("model.safetensors"), "{message}");
    }

    let no_encoder = model_dir_with_weights(&safetensors_with("unrelated", &[2]));
    let message = load_error(no_encoder.path());
    assert!(
        message.contains("tensor embeddings.word_embeddings.weight is missing"),
        "{message}"
    );

    let misshapen =
        model_dir_with_weights(&safetensors_with("embeddings.word_embeddings.weight", &[4]));
    let message = load_error(misshapen.path());
    assert!(message.contains("expected F32 [30522, 384]"), "{message}");
}

#[test]
fn a_missing_model_file_says_how_to_fetch_it() {
    let dir = model_dir_with_weights(b"");
    std::fs::remove_file(dir.path().join(model_files::WEIGHTS_FILE)).expect("remove");
    let err = Embedder::load(dir.path()).err();
    assert!(matches!(err, Some(ModelError::Missing { .. })), "{err:?}");
    let message = load_error(dir.path());
    assert!(message.contains("run scripts/fetch-model.sh"), "{message}");
}

#[test]
fn the_fetched_model_passes_its_hash_check() {
    let dir = model_dir();
    let status = model_files::check(&dir);
    assert!(status.is_complete(), "{status}");
    model_files::verify(&dir).expect("hash verified");
}
