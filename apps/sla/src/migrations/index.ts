import { SlaInit1764086400000 } from './1764086400000-SlaInit';
import { SlaCore1795634176748 } from './1795634176748-SlaCore';
import { Reports1795636002073 } from './1795636002073-Reports';
import { ReportsDashboard1795637535158 } from './1795637535158-ReportsDashboard';
import { ReportsSlaOutcomes1795638712482 } from './1795638712482-ReportsSlaOutcomes';
import { BotHold1795641300000 } from './1795641300000-BotHold';
import { ReportsCsat1795642000000 } from './1795642000000-ReportsCsat';
import { ReportsLiveCounters1795643000000 } from './1795643000000-ReportsLiveCounters';
import { ReportsBotHeld1795643700000 } from './1795643700000-ReportsBotHeld';

/** Every migration of the sla schema, in order. Never edit one that has been merged. */
export const slaMigrations = [SlaInit1764086400000, SlaCore1795634176748, Reports1795636002073, ReportsDashboard1795637535158, ReportsSlaOutcomes1795638712482, BotHold1795641300000, ReportsCsat1795642000000, ReportsLiveCounters1795643000000, ReportsBotHeld1795643700000];
