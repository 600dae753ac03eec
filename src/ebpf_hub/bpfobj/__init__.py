"""Read a compiled CO-RE BPF object without loading it, in pure Python.

The builder uses :func:`.inspect.inspect_object` to check a package against its declarations
and to write the artifact config; the runner uses the object's BTF to decode ring-buffer
events and map values (:func:`.decode.compile_decoder`); both, and the client at install,
judge what an object can do to the system with :mod:`.capabilities`.

The package re-exports nothing: `install` reads only an object's calls (:mod:`.objcalls`),
and importing every module here (BTF types, layouts, decoders) would cost each install more
than reading its objects does.
"""
