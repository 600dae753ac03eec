/* A user-space target for the uprobe tests: calls ebh_target_fn(21) once. */
#include <stdio.h>

__attribute__((noinline)) int ebh_target_fn(int x)
{
	return x * 2;
}

int main(void)
{
	printf("%d\n", ebh_target_fn(21));
	return 0;
}
