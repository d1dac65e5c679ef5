"""Lymphodepletion, infusion, monitoring, follow-up, and the ways a case ends early."""

from __future__ import annotations

from cartflow.clinic.services.operations import operation
from cartflow.domain import journey

record_site_protocol_value = operation(journey.RecordSiteProtocolValue)
modify_fludarabine_dose = operation(journey.ModifyFludarabineDose)
start_lymphodepletion = operation(journey.StartLymphodepletion)
complete_lymphodepletion = operation(journey.CompleteLymphodepletion)
omit_lymphodepletion = operation(journey.OmitLymphodepletion)
thaw_bag = operation(journey.ThawBag)
infuse_bag = operation(journey.InfuseBag)
start_monitoring = operation(journey.StartMonitoring)
complete_monitoring = operation(journey.CompleteMonitoring)
record_follow_up_visit = operation(journey.RecordFollowUpVisit)
complete_follow_up = operation(journey.CompleteFollowUp)
withdraw_case = operation(journey.WithdrawCase)
record_death = operation(journey.RecordDeath)
expire_product = operation(journey.ExpireProduct)
dispose_product = operation(journey.DisposeProduct)
