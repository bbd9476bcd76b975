"""The exchange's facts (KYC, trade fees, fills) as the exchange would publish them."""
