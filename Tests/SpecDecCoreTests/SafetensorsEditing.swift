import SpecDecCore
import SpecDecJSON

/// Builds and rewrites safetensors files for the hostile-file tests: a header that says
/// one thing while the bytes say another.
enum SafetensorsEditing {
    /// The header object and the data section of a safetensors file.
    static func split(_ bytes: [UInt8]) -> (header: JSONObject, data: [UInt8]) {
        var length = 0
        for i in (0..<8).reversed() { length = length << 8 | Int(bytes[i]) }
        let header = try! JSONParser.parse(Array(bytes[8..<(8 + length)])).objectValue!
        return (header, Array(bytes[(8 + length)...]))
    }

    /// A file from a header object and a data section.
    static func join(header: JSONObject, data: [UInt8]) -> [UInt8] {
        withLength(UInt64(0), header: Array(JSONValue.object(header).serialized.utf8), data: data, exact: true)
    }

    /// A file whose 8-byte length field says `length` (the real header length when `exact`).
    static func withLength(_ length: UInt64, header: [UInt8], data: [UInt8], exact: Bool = false) -> [UInt8] {
        let stated = exact ? UInt64(header.count) : length
        return (0..<8).map { UInt8(truncatingIfNeeded: stated >> (8 * UInt64($0))) } + header + data
    }

    /// Rewrites one tensor's header entry.
    static func editEntry(_ bytes: [UInt8], _ name: String, _ edit: (inout JSONObject) -> Void) -> [UInt8] {
        var (header, data) = split(bytes)
        var entry = header[name]!.objectValue!
        edit(&entry)
        header[name] = .object(entry)
        return join(header: header, data: data)
    }

    /// Applies `transform` to every value of a file whose tensors are all fp32.
    static func mappingFloats(_ bytes: [UInt8], _ transform: (Float) -> Float) -> [UInt8] {
        let (header, data) = split(bytes)
        var mapped = data
        mapped.withUnsafeMutableBytes { raw in
            let floats = raw.bindMemory(to: Float.self)
            for i in floats.indices { floats[i] = transform(floats[i]) }
        }
        return join(header: header, data: mapped)
    }

    /// Replaces every value with `value` (NaN, infinity).
    static func fillingFloats(_ bytes: [UInt8], with value: Float) -> [UInt8] { mappingFloats(bytes) { _ in value } }

    static func integers(_ values: [Int]) -> JSONValue { .array(values.map { .integer(Int64($0)) }) }
}

/// A Llama model with zero weights and the dimensions a test asks for, written to a
/// directory: for shapes the committed fixtures do not have (many layers, long contexts).
struct SyntheticLlama {
    var vocabSize = 32
    var hiddenSize = 64
    var layers = 2
    var heads = 4
    var kvHeads = 4
    var intermediateSize = 64
    var contextLength = 128

    var headDim: Int { hiddenSize / heads }

    var config: String {
        """
        {"model_type": "llama", "vocab_size": \(vocabSize), "hidden_size": \(hiddenSize), \
        "intermediate_size": \(intermediateSize), "num_hidden_layers": \(layers), \
        "num_attention_heads": \(heads), "num_key_value_heads": \(kvHeads), \
        "max_position_embeddings": \(contextLength), "tie_word_embeddings": true, \
        "bos_token_id": 1, "eos_token_id": 2}
        """
    }

    var tensors: [(String, [Int])] {
        let d = hiddenSize, kv = kvHeads * headDim
        var list: [(String, [Int])] = [("model.embed_tokens.weight", [vocabSize, d]), ("model.norm.weight", [d])]
        for i in 0..<layers {
            let p = "model.layers.\(i)."
            list += [(p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
                     (p + "self_attn.q_proj.weight", [d, d]), (p + "self_attn.k_proj.weight", [kv, d]),
                     (p + "self_attn.v_proj.weight", [kv, d]), (p + "self_attn.o_proj.weight", [d, d]),
                     (p + "mlp.gate_proj.weight", [intermediateSize, d]), (p + "mlp.up_proj.weight", [intermediateSize, d]),
                     (p + "mlp.down_proj.weight", [d, intermediateSize])]
        }
        return list
    }

    func write(to directory: TemporaryDirectory) {
        var header = JSONObject()
        var offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(4, *)
            header[name] = .object(JSONObject([("dtype", .string("F32")), ("shape", SafetensorsEditing.integers(shape)),
                                               ("data_offsets", SafetensorsEditing.integers([offset, offset + bytes]))]))
            offset += bytes
        }
        directory.write("config.json", text: config)
        directory.write("model.safetensors", SafetensorsEditing.join(header: header, data: [UInt8](repeating: 0, count: offset)))
    }
}
