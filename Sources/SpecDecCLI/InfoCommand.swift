import ArgumentParser
import SpecDecCore
import SpecDecJSON

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a model directory.")

    @Option(help: "Hugging Face model directory.") var model: String
    @OptionGroup var precision: PrecisionOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        do throws(SpecDecError) {
            if modelFamily(model) == .encoderDecoder {
                let loaded = try EncoderDecoderLoader.load(directory: model, options: try precision.loadOptions())
                let c = loaded.config
                print(JSONValue.object(JSONObject([
                    ("model_type", .string(c.modelType)), ("encoder_decoder", .bool(true)),
                    ("vocab_size", .integer(Int64(c.vocabSize))), ("source_vocab_size", .integer(Int64(c.sourceVocabSize))),
                    ("hidden_size", .integer(Int64(c.hiddenSize))), ("encoder_layers", .integer(Int64(c.encoderLayerCount))),
                    ("decoder_layers", .integer(Int64(c.decoderLayerCount))), ("heads", .integer(Int64(c.decoderHeadCount))),
                    ("max_source_length", .integer(Int64(c.maxSourcePositions))), ("context_length", .integer(Int64(c.contextLength))),
                    ("decoder_start_token_id", .integer(Int64(c.decoderStartTokenId))),
                    ("parameters", .integer(Int64(loaded.parameterCount))),
                ] + weightFields(loaded.weights))).serialized)
                return
            }
            let loaded = try ModelLoader.load(directory: model, options: try precision.loadOptions())
            let c = loaded.config
            let object = JSONObject([
                ("model_type", .string(c.modelType)), ("vocab_size", .integer(Int64(c.vocabSize))),
                ("hidden_size", .integer(Int64(c.hiddenSize))), ("layers", .integer(Int64(c.layerCount))),
                ("heads", .integer(Int64(c.headCount))), ("kv_heads", .integer(Int64(c.kvHeadCount))),
                ("context_length", .integer(Int64(c.contextLength))), ("parameters", .integer(Int64(loaded.parameterCount))),
            ] + weightFields(loaded.weights))
            print(JSONValue.object(object).serialized)
        } catch {
            throw report(error, json: json)
        }
    }
}
