//! model.safetensors, memory-mapped: the header is checked once (every tensor inside the
//! file, of the expected dtype and shape), then tensors are `&[f32]` slices of the mapping,
//! so the 90 MB of weights are paged in from the file, never copied to the heap.

use super::error::ModelError;
use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where one tensor lives: a range of f32 elements in the file's data section.
#[derive(Clone, Debug)]
pub(crate) struct TensorRef(Range<usize>);

pub(crate) struct Weights {
    path: PathBuf,
    storage: Storage,
    /// Byte offset of the data section (after the 8-byte length and the JSON header).
    data_start: usize,
    metadata: safetensors::tensor::Metadata,
}

enum Storage {
    /// The file itself; used when the data section is 4-byte aligned in memory and the
    /// machine is little-endian (safetensors' byte order), which is the normal case.
    Mapped(Mmap),
    /// A decoded copy of the data section for the odd file or machine where a mapped
    /// slice cannot be viewed as f32.
    Decoded(Vec<f32>),
}

impl Weights {
    pub(super) fn open(path: &Path) -> Result<Weights, ModelError> {
        let file = File::open(path).map_err(|e| ModelError::io(path, e))?;
        // SAFETY: the mapping is read-only; like every reader of a mapped model we rely on
        // the file not being truncated or rewritten in place while the daemon runs
        // (fetch-model.sh and `model fetch` replace it by rename, never in place).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| ModelError::io(path, e))?;
        let (header_len, metadata) = SafeTensors::read_metadata(&map).map_err(|e| {
            ModelError::invalid(
                path,
                format!("not a complete safetensors file ({e}); truncated or corrupt?"),
            )
        })?;
        let data_start = 8 + header_len;
        let viewable_in_place = cfg!(target_endian = "little")
            && (map.as_ptr() as usize + data_start).is_multiple_of(std::mem::align_of::<f32>());
        let storage = if viewable_in_place {
            Storage::Mapped(map)
        } else {
            let decoded = map[data_start..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Storage::Decoded(decoded)
        };
        Ok(Weights {
            path: path.to_path_buf(),
            storage,
            data_start: if viewable_in_place { data_start } else { 0 },
            metadata,
        })
    }

    /// Finds tensor `name`, which must be F32 of exactly `shape`.
    pub(super) fn tensor(&self, name: &str, shape: &[usize]) -> Result<TensorRef, ModelError> {
        let info = self
            .metadata
            .info(name)
            .ok_or_else(|| ModelError::invalid(&self.path, format!("tensor {name} is missing")))?;
        if info.dtype != Dtype::F32 || info.shape != shape {
            return Err(ModelError::invalid(
                &self.path,
                format!(
                    "tensor {name} is {:?} {:?}, expected F32 {shape:?}",
                    info.dtype, info.shape
                ),
            ));
        }
        let (start, end) = info.data_offsets;
        if !start.is_multiple_of(4) {
            return Err(ModelError::invalid(
                &self.path,
                format!("tensor {name} starts at byte {start} of the data, not 4-byte aligned"),
            ));
        }
        // read_metadata has checked that the offsets tile the data section and match the
        // shape, so this range is inside the file.
        Ok(TensorRef(start / 4..end / 4))
    }

    /// The elements of a tensor found by `tensor` on these weights.
    pub(super) fn get(&self, tensor: &TensorRef) -> &[f32] {
        let TensorRef(range) = tensor;
        &self.all_f32()[range.clone()]
    }

    fn all_f32(&self) -> &[f32] {
        match &self.storage {
            Storage::Decoded(values) => values,
            Storage::Mapped(map) => {
                let bytes = &map[self.data_start..];
                // SAFETY: every bit pattern is a valid f32, and `open` chose this variant only
                // when the start is f32-aligned (align_to then yields an empty prefix).
                let (prefix, floats, _) = unsafe { bytes.align_to::<f32>() };
                debug_assert!(prefix.is_empty());
                floats
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors file holding one F32 tensor `[1.5, -2.0, 3.25]`, its JSON header padded
    /// with `padding` spaces (which moves the data section's alignment).
    fn file_with_padding(dir: &Path, padding: usize) -> PathBuf {
        let mut header = r#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#.to_string();
        header.push_str(&" ".repeat(padding));
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        for v in [1.5f32, -2.0, 3.25] {
            bytes.extend(v.to_le_bytes());
        }
        let path = dir.join(format!("padded-{padding}.safetensors"));
        std::fs::write(&path, bytes).expect("write");
        path
    }

    #[test]
    fn reads_tensors_whether_the_data_is_aligned_in_place_or_decoded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut seen = Vec::new();
        for padding in 0..4 {
            let weights = Weights::open(&file_with_padding(dir.path(), padding)).expect("open");
            let tensor = weights.tensor("t", &[3]).expect("tensor t");
            assert_eq!(weights.get(&tensor), [1.5, -2.0, 3.25], "padding {padding}");
            seen.push(matches!(weights.storage, Storage::Mapped(_)));
        }
        // One of the four paddings aligns the data in place, the others need decoding.
        assert_eq!(seen.iter().filter(|&&mapped| mapped).count(), 1, "{seen:?}");
    }

    #[test]
    fn a_wrong_dtype_or_shape_names_the_tensor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let weights = Weights::open(&file_with_padding(dir.path(), 0)).expect("open");
        let message = weights.tensor("t", &[4]).err().map(|e| e.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("tensor t is F32 [3], expected F32 [4]")),
            "{message:?}"
        );
    }
}
