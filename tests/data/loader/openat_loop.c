/* Calls openat(argv[1]) times on /dev/null: the event source of the throughput test. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;

	for (long i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY);

		if (fd >= 0)
			close(fd);
	}
	return 0;
}
