//! Weight precision and kernel path at load (ABI 3): reported in the info, int8 greedy
//! ids equal on every path the CPU runs, bad choices refused with a status.

use specdec::{ErrorCode, GenerateOptions, KernelPath, Model, ModelParams, WeightPrecision};

mod common;

fn greedy(model: &Model) -> Vec<i32> {
    let mut session = model.session().unwrap();
    session
        .generate(&[5, 9, 200, 17], &GenerateOptions::new().max_new_tokens(10))
        .unwrap()
}

#[test]
fn precision_and_path_are_reported() {
    for weights in [
        WeightPrecision::Fp32,
        WeightPrecision::Bf16,
        WeightPrecision::Int8,
    ] {
        let params = ModelParams {
            weights,
            ..Default::default()
        };
        let model = Model::load_with(common::fixture("llama_f32"), params).unwrap();
        let info = model.info();
        assert_eq!(info.weights, weights);
        assert_ne!(info.kernel_path, KernelPath::Auto);
        assert!(info.kernel_path.is_supported());
        assert!(info.weight_bytes > 0);
    }
}

#[test]
fn int8_is_identical_on_every_supported_path() {
    let mut outputs = Vec::new();
    for kernels in KernelPath::ALL
        .into_iter()
        .filter(|p| *p != KernelPath::Auto && p.is_supported())
    {
        let params = ModelParams {
            weights: WeightPrecision::Int8,
            kernels,
            ..Default::default()
        };
        let model = Model::load_with(common::fixture("llama_f32"), params).unwrap();
        assert_eq!(model.info().kernel_path, kernels);
        outputs.push(greedy(&model));
    }
    assert!(outputs.len() >= 1);
    assert!(outputs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_path_the_cpu_lacks_is_a_status() {
    for kernels in KernelPath::ALL.into_iter().filter(|p| !p.is_supported()) {
        let params = ModelParams {
            weights: WeightPrecision::Bf16,
            kernels,
            ..Default::default()
        };
        let err = Model::load_with(common::fixture("llama_f32"), params).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unsupported);
        assert!(err.message().contains(kernels.name()), "{}", err.message());
    }
    assert_eq!(KernelPath::Avx512Bf16.name(), "avx512_bf16");
}
