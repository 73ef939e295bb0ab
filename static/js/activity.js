// Other supervisors' activity on the board columns, and the open confirmation's freshness (issue 15).
