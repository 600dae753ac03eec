package hub;

/** A problem to report in one line on stderr, with exit status 1. */
public final class LoaderError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LoaderError(String message) {
        super(message);
    }
}
