import ArgumentParser

@main
struct SpecDecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "specdec",
        abstract: "Generate, score and benchmark with libspecdec's engine.",
        subcommands: [GenerateCommand.self, TranslateCommand.self, ScoreCommand.self, TokenizeCommand.self, DetokenizeCommand.self, BenchCommand.self, KernelsCommand.self, InfoCommand.self])
}
