"""Features with one definition each: `application` (the A-card's, from what an applicant
declares and shares) and `behaviour` (the B-card's, from how a customer uses their credit)."""
