"""dgm-course's autograder: a trusted judge that grades untrusted submissions through a worker."""
