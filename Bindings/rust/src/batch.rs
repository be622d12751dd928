//! Batched decoding (ABI 4): [`Session::generate_batch`], [`Session::translate_batch`]
//! and [`Session::beam_search_batch`] decode many inputs per call.

use crate::convert::{count, length, SizedDefault};
use crate::error::{Error, ErrorCode, Result};
use crate::ffi;
use crate::generate::{GenerateOptions, StopReason};
use crate::seq2seq::{BeamOptions, Hypothesis};
use crate::session::{ModelKind, Session};
use crate::speculative::{with_speculation, Speculation};

/// How a batch call groups its inputs (builder style; `specdec_batch_params_t`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOptions {
    /// Sequences decoded together; 0 (default) means the session's `max_sequences`.
    pub batch_size: i32,
    /// 0 (default): off; else a sequence joins while the inputs decoding hold at most
    /// this many tokens.
    pub batch_tokens: i32,
    /// One sampling seed per input; `None` uses the options' seed for all.
    pub seeds: Option<Vec<u64>>,
}

impl BatchOptions {
    pub fn batch_size(mut self, n: i32) -> Self {
        self.batch_size = n;
        self
    }

    pub fn batch_tokens(mut self, n: i32) -> Self {
        self.batch_tokens = n;
        self
    }

    pub fn seeds(mut self, seeds: Vec<u64>) -> Self {
        self.seeds = Some(seeds);
        self
    }
}

/// What one input of a batch call produced: its tokens and why it stopped, or the error
/// that failed it alone.
#[derive(Debug)]
pub struct BatchSequence<T> {
    pub output: std::result::Result<T, Error>,
    pub stop_reason: StopReason,
}

/// Statuses start as this value: a call that fails as a whole writes none of them.
const UNWRITTEN: i32 = i32::MIN;

/// The inputs as the pointer and length arrays a batch call reads.
fn input_arrays(inputs: &[&[i32]], name: &str) -> Result<(Vec<*const i32>, Vec<i32>, i32)> {
    let n = count(inputs.len(), name)?;
    let lengths = inputs
        .iter()
        .map(|s| count(s.len(), name))
        .collect::<Result<Vec<_>>>()?;
    Ok((inputs.iter().map(|s| s.as_ptr()).collect(), lengths, n))
}

impl Session<'_> {
    /// Continues every prompt on a decoder-only model (`specdec_generate_batch`), one
    /// model pass per token for up to `batch.batch_size` sequences; with `spec` the
    /// prompts are decoded one after another speculatively. Each output equals what
    /// [`generate`](Self::generate) gives for that prompt alone. `Err` is a failure of
    /// the whole call (an empty batch, a batch larger than the session's
    /// `max_sequences`); a bad prompt fails alone in its [`BatchSequence`].
    pub fn generate_batch(
        &mut self,
        prompts: &[&[i32]],
        options: &GenerateOptions,
        batch: &BatchOptions,
        spec: Option<&Speculation<'_>>,
    ) -> Result<Vec<BatchSequence<Vec<i32>>>> {
        self.run_batch(prompts, options, batch, spec, ModelKind::DecoderOnly)
    }

    /// Translates every source on an encoder-decoder model, as
    /// [`generate_batch`](Self::generate_batch) (CTranslate2's `translate_batch`), except
    /// that SpecDec (a Spec-Drafter as `spec`) drafts and verifies for the whole batch in
    /// one pass each a round; each output equals [`translate`](Self::translate) of that
    /// source alone.
    pub fn translate_batch(
        &mut self,
        sources: &[&[i32]],
        options: &GenerateOptions,
        batch: &BatchOptions,
        spec: Option<&Speculation<'_>>,
    ) -> Result<Vec<BatchSequence<Vec<i32>>>> {
        self.run_batch(sources, options, batch, spec, ModelKind::EncoderDecoder)
    }

    fn run_batch(
        &mut self,
        inputs: &[&[i32]],
        options: &GenerateOptions,
        batch: &BatchOptions,
        spec: Option<&Speculation<'_>>,
        expect: ModelKind,
    ) -> Result<Vec<BatchSequence<Vec<i32>>>> {
        let (pointers, lengths, n) = input_arrays(inputs, "n_inputs")?;
        count(options.stop_tokens.len(), "n_stop_tokens")?;
        let raw = options.to_raw();
        let width = options.max_new_tokens.max(0) as usize;
        let mut tokens = vec![0i32; (width * inputs.len()).max(1)];
        let cap = count(tokens.len(), "out_cap")?;
        let mut out_lengths = vec![0i32; inputs.len().max(1)];
        let mut stops = vec![0i32; inputs.len().max(1)];
        let mut statuses = vec![UNWRITTEN; inputs.len().max(1)];
        let mut raw_batch = ffi::specdec_batch_params_t {
            batch_size: batch.batch_size,
            batch_tokens: batch.batch_tokens,
            ..ffi::specdec_batch_params_t::sized_default()
        };
        if let Some(seeds) = &batch.seeds {
            if seeds.len() != inputs.len() {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("{} seeds for {} sequences", seeds.len(), inputs.len()),
                ));
            }
            raw_batch.seeds = seeds.as_ptr();
        }
        let status = with_speculation(
            spec,
            |_: i32| Vec::new(),
            |spec| {
                // SAFETY: live session; inputs[i] holds lengths[i] ids; raw, spec and
                // raw_batch (and the seeds they point to) live for the call; tokens holds
                // cap ids and the other arrays one entry per input.
                Ok(unsafe {
                    ffi::specdec_generate_batch(
                        self.as_ptr(),
                        pointers.as_ptr(),
                        lengths.as_ptr(),
                        n,
                        &raw,
                        spec,
                        &raw_batch,
                        tokens.as_mut_ptr(),
                        cap,
                        out_lengths.as_mut_ptr(),
                        stops.as_mut_ptr(),
                        statuses.as_mut_ptr(),
                    )
                })
            },
        )?;
        let message = ErrorCode::from_status(status).map(|code| self.failure_message(code, expect));
        if statuses[0] == UNWRITTEN {
            self.check_call(status, expect)?;
        }
        Ok((0..inputs.len())
            .map(|i| {
                let output = match ErrorCode::from_status(statuses[i]) {
                    None => {
                        let n = length(out_lengths[i]).min(width);
                        Ok(tokens[i * width..i * width + n].to_vec())
                    }
                    Some(code) => Err(sequence_error(code, i, &message)),
                };
                BatchSequence {
                    output,
                    stop_reason: StopReason::from_raw(stops[i]),
                }
            })
            .collect())
    }

    /// [`beam_search`](Self::beam_search) for every source (`specdec_beam_search_batch`):
    /// the hypotheses of each, best first, or the error that failed it alone.
    pub fn beam_search_batch(
        &mut self,
        sources: &[&[i32]],
        options: &BeamOptions,
    ) -> Result<Vec<std::result::Result<Vec<Hypothesis>, Error>>> {
        let (pointers, lengths, n) = input_arrays(sources, "n_sources")?;
        let raw = options.to_raw();
        let per = options.max_new_tokens.max(1) as usize;
        let k = options.num_return.max(1) as usize;
        let rows = k * sources.len().max(1);
        let mut tokens = vec![0i32; rows * per];
        let mut out_lengths = vec![0i32; rows];
        let mut scores = vec![0f32; rows];
        let mut ended = vec![0i32; rows];
        let mut found = vec![0i32; sources.len().max(1)];
        let mut statuses = vec![UNWRITTEN; sources.len().max(1)];
        // SAFETY: live session; sources[i] holds lengths[i] ids; the output arrays hold
        // num_return * max_new_tokens ids and num_return entries per source.
        let status = unsafe {
            ffi::specdec_beam_search_batch(
                self.as_ptr(),
                pointers.as_ptr(),
                lengths.as_ptr(),
                n,
                &raw,
                tokens.as_mut_ptr(),
                out_lengths.as_mut_ptr(),
                scores.as_mut_ptr(),
                ended.as_mut_ptr(),
                found.as_mut_ptr(),
                statuses.as_mut_ptr(),
            )
        };
        let message = ErrorCode::from_status(status)
            .map(|code| self.failure_message(code, ModelKind::EncoderDecoder));
        if statuses[0] == UNWRITTEN {
            self.check_call(status, ModelKind::EncoderDecoder)?;
        }
        Ok((0..sources.len())
            .map(|i| match ErrorCode::from_status(statuses[i]) {
                Some(code) => Err(sequence_error(code, i, &message)),
                None => Ok((0..length(found[i]).min(k))
                    .map(|j| {
                        let row = i * k + j;
                        let len = length(out_lengths[row]).min(per);
                        Hypothesis {
                            tokens: tokens[row * per..row * per + len].to_vec(),
                            score: scores[row],
                            ended_with_eos: ended[row] != 0,
                        }
                    })
                    .collect()),
            })
            .collect())
    }
}

/// The error of sequence `index`: the call's message names the first failing sequence;
/// the others get their status and index.
fn sequence_error(code: ErrorCode, index: usize, call_message: &Option<String>) -> Error {
    match call_message {
        Some(m) if m.starts_with(&format!("sequence {index}: ")) => Error::new(code, m.clone()),
        _ => Error::new(code, format!("sequence {index} failed")),
    }
}
