import CSpecDecABI

private let versionText: StaticString = "0.4.0"

@_cdecl("specdec_version_number")
public func specdec_version_number() -> UInt32 {
    UInt32(SPECDEC_VERSION_MAJOR * 10000 + SPECDEC_VERSION_MINOR * 100 + SPECDEC_VERSION_PATCH)
}

@_cdecl("specdec_version_string")
public func specdec_version_string() -> UnsafePointer<CChar> {
    UnsafeRawPointer(versionText.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("specdec_abi_version")
public func specdec_abi_version() -> UInt32 { UInt32(SPECDEC_ABI_VERSION) }
