//! The one matrix product the forward pass needs, `C = alpha·A·B + beta·C` over strided views,
//! on matrixmultiply's packed single-threaded sgemm. Every view is bounds-checked here, so
//! the single `unsafe` call below cannot read or write outside its slices.

/// A read-only matrix view: element (r, c) is `data[r * row_stride + c * col_stride]`.
/// A transpose is the same data with the two strides swapped.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Mat<'a> {
    /// A dense row-major matrix.
    pub(super) fn rows(data: &'a [f32], rows: usize, cols: usize) -> Mat<'a> {
        Mat {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a dense row-major `rows × cols` matrix, without copying: how a
    /// PyTorch `Linear` weight (out × in) is used as the in × out right-hand side.
    pub(super) fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Mat<'a> {
        Mat {
            data,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols,
        }
    }

    /// The same elements seen transposed (strides swapped, nothing copied).
    pub(super) fn t(self) -> Mat<'a> {
        Mat {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Columns `first..first + count` of this view.
    pub(super) fn columns(self, first: usize, count: usize) -> Mat<'a> {
        assert!(first + count <= self.cols, "column range out of the view");
        let offset = first * self.col_stride;
        Mat {
            data: if self.rows == 0 || count == 0 {
                &[]
            } else {
                &self.data[offset..]
            },
            cols: count,
            ..self
        }
    }
}

/// A mutable matrix view, strides as in `Mat`.
pub(crate) struct MatMut<'a> {
    pub data: &'a mut [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatMut<'a> {
    pub(super) fn rows(data: &'a mut [f32], rows: usize, cols: usize) -> MatMut<'a> {
        MatMut {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// Columns `first..first + count` of this view.
    pub(super) fn columns(self, first: usize, count: usize) -> MatMut<'a> {
        assert!(first + count <= self.cols, "column range out of the view");
        let offset = if self.rows == 0 || count == 0 {
            self.data.len()
        } else {
            first * self.col_stride
        };
        MatMut {
            data: &mut self.data[offset..],
            cols: count,
            ..self
        }
    }
}

/// The smallest slice length that holds every element of a `rows × cols` strided view.
fn span(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * row_stride + (cols - 1) * col_stride + 1
    }
}

fn stride(s: usize) -> isize {
    isize::try_from(s).expect("matrix stride fits in isize")
}

/// `c = alpha · a · b + beta · c`. Panics on mismatched shapes or views past their slices
/// (a programming error: shapes come from the validated model config, not from input).
pub(crate) fn gemm(alpha: f32, a: Mat<'_>, b: Mat<'_>, beta: f32, c: MatMut<'_>) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    assert_eq!((a.rows, b.cols), (c.rows, c.cols), "output shape differs");
    assert!(span(a.rows, a.cols, a.row_stride, a.col_stride) <= a.data.len());
    assert!(span(b.rows, b.cols, b.row_stride, b.col_stride) <= b.data.len());
    assert!(span(c.rows, c.cols, c.row_stride, c.col_stride) <= c.data.len());
    if c.rows == 0 || c.cols == 0 {
        return;
    }
    // SAFETY: the asserts above keep every element sgemm touches inside the three slices;
    // `c` is a unique borrow, so it aliases neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            a.rows,
            a.cols,
            b.cols,
            alpha,
            a.data.as_ptr(),
            stride(a.row_stride),
            stride(a.col_stride),
            b.data.as_ptr(),
            stride(b.row_stride),
            stride(b.col_stride),
            beta,
            c.data.as_mut_ptr(),
            stride(c.row_stride),
            stride(c.col_stride),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: Mat<'_>, b: Mat<'_>) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for r in 0..a.rows {
            for c in 0..b.cols {
                for k in 0..a.cols {
                    out[r * b.cols + c] += a.data[r * a.row_stride + k * a.col_stride]
                        * b.data[k * b.row_stride + c * b.col_stride];
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_with_transposes_and_column_views() {
        let a: Vec<f32> = (0..12).map(|v| v as f32 * 0.5 - 2.0).collect(); // 3 × 4
        let w: Vec<f32> = (0..20).map(|v| (v % 7) as f32 - 3.0).collect(); // 5 × 4
        let (a, wt) = (Mat::rows(&a, 3, 4), Mat::transposed(&w, 5, 4)); // wt: 4 × 5
        let mut c = vec![0.0; 15];
        gemm(1.0, a, wt, 0.0, MatMut::rows(&mut c, 3, 5));
        assert_eq!(c, naive(a, wt));

        // Columns 1..3 of a (3 × 2) times rows 1..3 of wt taken as columns of w's transpose.
        let mut c2 = vec![1.0; 6 * 2]; // write into columns 2..4 of a 3 × 4 with stride 4
        let a_cols = a.columns(1, 2);
        let wt_rows = Mat::rows(&w[4..], 2, 4).columns(0, 2);
        gemm(
            2.0,
            a_cols,
            wt_rows,
            1.0,
            MatMut::rows(&mut c2, 3, 4).columns(2, 2),
        );
        let expect = naive(a_cols, wt_rows);
        for r in 0..3 {
            assert_eq!(c2[r * 4..r * 4 + 2], [1.0, 1.0]);
            assert_eq!(c2[r * 4 + 2], 1.0 + 2.0 * expect[r * 2]);
            assert_eq!(c2[r * 4 + 3], 1.0 + 2.0 * expect[r * 2 + 1]);
        }
    }
}
