#!/usr/bin/env bash
# The tests under the sanitizers, and the C host under valgrind. Each mode builds into its
# own directory (.build-asan, .build-ubsan, .build-tsan), so the normal build is untouched.
#
#   bash scripts/sanitize.sh [MODE...]     MODE: address, undefined, thread, valgrind (default: all)
#
#   address    the Swift tests (they drive the C API too) with AddressSanitizer, then the C
#              examples built with clang -fsanitize=address against an ASan libspecdec.so
#   undefined  the Swift tests (debug: Swift traps on overflow and bounds) with the C targets
#              under UndefinedBehaviorSanitizer
#   thread     the multi-threaded tests (thread pool, shared models, concurrent sessions)
#              with ThreadSanitizer
#   valgrind   the C host (load, generate, speculative generate, tokenizer, destroy) under
#              valgrind --leak-check=full: no definite or indirect leaks, no errors
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(address undefined thread valgrind)
bash scripts/install-deps.sh
command -v valgrind >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
fixtures=Tests/Fixtures/decoder
ids() { python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))[sys.argv[2]])))' "$1" "$2"; }

for mode in "${modes[@]}"; do
    case $mode in
    address)
        echo "== Swift tests under AddressSanitizer"
        ASAN_OPTIONS=detect_leaks=0 swift test --sanitize=address --build-path .build-asan
        echo "== C examples under AddressSanitizer"
        swift build --sanitize=address --build-path .build-asan --product specdec
        lib=$(swift build --sanitize=address --build-path .build-asan --show-bin-path)
        clang_bin=$(dirname "$(command -v swiftc)")/clang
        build=$(mktemp -d)
        make -s -C examples/c CC="$clang_bin -fsanitize=address -fno-omit-frame-pointer" LIBDIR="$lib" BUILD="$build" JEMALLOC= \
            "$build/generate" "$build/speculative"
        dir=$fixtures/llama_f32
        got=$(ASAN_OPTIONS=detect_leaks=1 "$build/generate" "$dir" "$(ids "$dir/reference.json" prompt_ids)" 24)
        [ "$got" = "$(ids "$dir/reference.json" greedy_ids)" ] || { echo "ASan generate: wrong ids" >&2; exit 1; }
        ASAN_OPTIONS=detect_leaks=1 "$build/speculative" --drafter model --draft-model "$fixtures/llama_f16" "$dir" \
            "$(ids "$dir/reference.json" prompt_ids)" 24 >/dev/null
        rm -rf "$build"
        echo "address: ok"
        ;;
    undefined)
        # Swift has no UBSan mode of its own: a debug build already traps on overflow and
        # out-of-bounds access. UBSan instruments the C targets (the kernels, packing, the
        # CPU and jemalloc shims), and any report stops the run.
        echo "== Swift tests with the C targets under UndefinedBehaviorSanitizer"
        rt=$(dirname "$(command -v swiftc)")/../lib/clang
        rt=$(ls -d "$rt"/*/lib/linux | head -n 1)/libclang_rt.ubsan_standalone-x86_64.a
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 swift test --build-path .build-ubsan \
            -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined -Xlinker "$rt"
        echo "undefined: ok"
        ;;
    thread)
        echo "== multi-threaded tests under ThreadSanitizer"
        TSAN_OPTIONS=halt_on_error=1 swift test --sanitize=thread --build-path .build-tsan \
            --filter 'ThreadPool|Concurren|Reentran|SharedModel'
        echo "thread: ok"
        ;;
    valgrind)
        echo "== the C host under valgrind"
        # valgrind emulates no AVX-512 (the kernels take their AVX2 path under it): this
        # check uses the baseline AVX2 build (SPECDEC_TARGET_CPU=haswell, see Package.swift,
        # even where the default was overridden), without debug info, which valgrind 3.19
        # cannot read in the toolchain's DWARF 5.
        SPECDEC_TARGET_CPU=haswell swift build -c release --build-path .build-valgrind -Xswiftc -static-stdlib --product specdec
        build=$(mktemp -d)
        mkdir -p "$build/lib"
        objcopy --strip-debug "$(SPECDEC_TARGET_CPU=haswell swift build -c release --build-path .build-valgrind --show-bin-path)/libspecdec.so" \
            "$build/lib/libspecdec.so"
        make -s -C examples/c BUILD="$build" LIBDIR="$build/lib" JEMALLOC=
        dir=$fixtures/llama_f32
        prompt=$(ids "$dir/reference.json" prompt_ids)
        vg=(valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
            --error-exitcode=3 --quiet)
        "${vg[@]}" "$build/generate" "$dir" "$prompt" 8 >/dev/null
        "${vg[@]}" "$build/speculative" --drafter ngram "$dir" "$prompt,$prompt" 8 >/dev/null
        "${vg[@]}" "$build/speculative" --drafter model --draft-model "$fixtures/llama_f16" "$dir" "$prompt" 8 >/dev/null
        "${vg[@]}" "$build/tokenize" "$root/Tests/Fixtures/tokenizers/bert-uncased-wordpiece/tokenizer.json" "Héllo wörld, Café ½" >/dev/null
        "${vg[@]}" "$build/tokenize" "$root/models/specdec-en-de-verifier" "Open the file." >/dev/null
        rm -rf "$build"
        echo "valgrind: ok (no definite or indirect leaks, no errors)"
        ;;
    *) echo "unknown mode $mode (address, undefined, thread, valgrind)" >&2; exit 2 ;;
    esac
done
