import SpecDecJSON
import Testing

@Suite struct JSONParserTests {
    @Test func parsesNestedValues() throws {
        let v = try JSONParser.parse(#"{"a": [1, -2.5e1, true, null, "x\u00e9\ud83d\ude00\n"], "b": {"c": 0}}"#)
        #expect(v["a"]?.arrayValue?.count == 5)
        #expect(v["a"]?.arrayValue?[1].doubleValue == -25)
        #expect(v["a"]?.arrayValue?[4].stringValue == "xé😀\n")
        #expect(v["b"]?["c"]?.intValue == 0)
        #expect(v.objectValue?.keys == ["a", "b"])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"\\q\"", "01", "1.", "\"\\ud800\"", "[1] x"])
    func rejectsMalformedDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func roundTripsThroughTheWriter() throws {
        let text = #"{"s":"a\"b\\c\u0001","n":[1,2.5,-3],"t":true,"z":null}"#
        #expect(try JSONParser.parse(text).serialized == text)
    }
}
